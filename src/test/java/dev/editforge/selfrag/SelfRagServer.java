package dev.editforge.selfrag;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.editforge.llm.remote.FakeOpenAi;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A scripted Self-RAG model behind {@link FakeOpenAi}, answering {@code /completions} with vLLM's
 * logprobs shape (text without special tokens, as vLLM's default skip_special_tokens gives):
 *
 * <ul>
 *   <li>a bare prompt (the adaptive decision): {@code [Retrieval]} (P 0.9) when the question has
 *       "capital", else {@code [No Retrieval]} (P 0.9);
 *   <li>a prompt ending in a passage: a passage containing "Paris" is {@code [Relevant]} "Paris it
 *       is" {@code [Fully supported]} {@code [Utility:5]}; any other {@code [Irrelevant]} "Lyon"
 *       {@code [No support / Contradictory]} {@code [Utility:1]}; a relevant one asks for more
 *       ({@code [Retrieval]}) until the prompt holds {@code longDepth - 1} earlier segments;
 *   <li>a prompt ending in {@code [No Retrieval]}: "I do not know".
 * </ul>
 */
public final class SelfRagServer implements FakeOpenAi.Script {
  private final int longDepth;

  public SelfRagServer(int longDepth) {
    this.longDepth = longDepth;
  }

  private record Tok(String token, double p, Map<String, Double> alts) {}

  private static Map<String, Double> m(Object... kv) {
    Map<String, Double> out = new LinkedHashMap<>();
    for (int i = 0; i < kv.length; i += 2) {
      out.put((String) kv[i], ((Number) kv[i + 1]).doubleValue());
    }
    return out;
  }

  @Override
  public FakeOpenAi.Reply reply(FakeOpenAi.Call call) {
    String prompt = call.key();
    List<Tok> toks = new ArrayList<>();
    if (prompt.endsWith("### Response:\n")) {
      boolean ret = prompt.contains("capital");
      toks.add(
          new Tok(
              ret ? "[Retrieval]" : "[No Retrieval]",
              0.9,
              ret
                  ? m("[Retrieval]", 0.9, "[No Retrieval]", 0.05)
                  : m("[No Retrieval]", 0.9, "[Retrieval]", 0.05)));
    } else if (prompt.endsWith("</paragraph>")) {
      String passage =
          prompt.substring(prompt.lastIndexOf("<paragraph>"), prompt.lastIndexOf("</paragraph>"));
      boolean paris = passage.contains("Paris");
      toks.add(
          new Tok(
              paris ? "[Relevant]" : "[Irrelevant]",
              0.8,
              paris
                  ? m("[Relevant]", 0.8, "[Irrelevant]", 0.2)
                  : m("[Irrelevant]", 0.7, "[Relevant]", 0.3)));
      if (paris) {
        toks.add(new Tok("Paris", 0.9, m()));
        toks.add(new Tok(" it is", 0.8, m()));
        toks.add(
            new Tok(
                "[Fully supported]",
                0.7,
                m(
                    "[Fully supported]",
                    0.7,
                    "[Partially supported]",
                    0.2,
                    "[No support / Contradictory]",
                    0.1)));
        toks.add(
            new Tok(
                "[Utility:5]", 0.6, m("[Utility:5]", 0.6, "[Utility:4]", 0.3, "[Utility:1]", 0.1)));
      } else {
        toks.add(new Tok("Lyon", 0.5, m()));
        toks.add(
            new Tok(
                "[No support / Contradictory]",
                0.6,
                m(
                    "[No support / Contradictory]",
                    0.6,
                    "[Partially supported]",
                    0.3,
                    "[Fully supported]",
                    0.1)));
        toks.add(new Tok("[Utility:1]", 0.5, m("[Utility:1]", 0.5, "[Utility:2]", 0.5)));
      }
      // The path's earlier segments are in the prompt: go on until longDepth segments exist.
      int segments = prompt.split("Paris it is", -1).length - 1;
      if (paris && segments < longDepth - 1) {
        toks.add(new Tok("[Retrieval]", 0.9, m("[Retrieval]", 0.9, "[No Retrieval]", 0.1)));
      }
    } else {
      toks.add(new Tok("I", 0.5, m()));
      toks.add(new Tok(" do not know", 0.5, m()));
    }
    ObjectNode resp = FakeOpenAi.JSON.createObjectNode().put("id", "x");
    ObjectNode c =
        resp.putArray("choices").addObject().put("index", 0).put("finish_reason", "stop");
    StringBuilder text = new StringBuilder();
    ObjectNode lp = c.putObject("logprobs");
    ArrayNode tokens = lp.putArray("tokens");
    ArrayNode chosen = lp.putArray("token_logprobs");
    ArrayNode top = lp.putArray("top_logprobs");
    for (Tok t : toks) {
      if (!ReflectionTokens.ALL.contains(t.token())) {
        text.append(t.token());
      }
      tokens.add(t.token());
      chosen.add(Math.log(t.p()));
      ObjectNode alts = top.addObject();
      alts.put(t.token(), Math.log(t.p()));
      t.alts().forEach((k, v) -> alts.put(k, Math.log(v)));
    }
    c.put("text", text.toString());
    resp.putObject("usage").put("prompt_tokens", 10).put("completion_tokens", toks.size());
    return FakeOpenAi.Reply.status(200, resp.toString());
  }
}
