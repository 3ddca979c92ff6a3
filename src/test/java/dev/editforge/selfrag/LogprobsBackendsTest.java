package dev.editforge.selfrag;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import dev.editforge.llm.DecoderLoader;
import dev.editforge.llm.GenerationRequest;
import dev.editforge.llm.GenerationResult;
import dev.editforge.llm.LlmSettings;
import dev.editforge.llm.LoadedDecoder;
import dev.editforge.llm.LocalGenerator;
import dev.editforge.llm.LogprobRequest;
import dev.editforge.llm.LogprobResult;
import dev.editforge.llm.SamplingParams;
import dev.editforge.llm.TokenLogprobs;
import dev.editforge.llm.remote.FakeOpenAi;
import dev.editforge.llm.remote.OpenAiGenerator;
import dev.editforge.llm.remote.RemoteSettings;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Token log-probabilities come back in the same shape from the local decoder and a server. */
class LogprobsBackendsTest {
  @TempDir Path dir;

  @Test
  void localDecoderReportsChosenTopKAndNamedReflectionTokensPerStep() {
    Path model = SelfRagTinyModel.write(dir.resolve("m"), 5);
    try (LoadedDecoder dec = DecoderLoader.load(model, Device.cpu(), DataType.FLOAT32);
        LocalGenerator gen = new LocalGenerator(dec, LlmSettings.defaults(), false)) {
      List<GenerationRequest> reqs =
          List.of(
              GenerationRequest.text("a", "### Instruction:\nhi\n", SamplingParams.greedy(6)),
              GenerationRequest.text("b", "x", SamplingParams.greedy(4)));
      List<LogprobResult> out =
          gen.generateWithLogprobs(reqs, new LogprobRequest(3, ReflectionTokens.ALL));
      List<GenerationResult> plain = gen.generate(reqs);
      for (int i = 0; i < reqs.size(); i++) {
        LogprobResult r = out.get(i);
        assertTrue(r.ok(), r.error());
        assertEquals(reqs.get(i).id(), r.requestId());
        // The same greedy text as without log-probs: asking for them changes nothing generated.
        assertEquals(plain.get(i).completions().get(0).tokenIds(), r.completion().tokenIds());
        assertEquals(r.completion().tokenIds().size(), r.logprobs().size());
        double total = 0;
        for (int s = 0; s < r.logprobs().size(); s++) {
          TokenLogprobs.Step st = r.logprobs().steps().get(s);
          assertEquals((int) r.completion().tokenIds().get(s), st.tokenId());
          for (String t : ReflectionTokens.ALL) {
            assertTrue(st.top().containsKey(t), "named token " + t + " reported at every step");
            assertTrue(st.logprob(t) < 0);
          }
          // Greedy picks the argmax, so its log-prob is the largest reported.
          double max =
              st.top().values().stream().mapToDouble(Double::doubleValue).max().getAsDouble();
          assertEquals(max, st.logprob(), 1e-6);
          double mass = st.top().values().stream().mapToDouble(Math::exp).sum();
          assertTrue(mass <= 1.0 + 1e-6, "probabilities of distinct tokens sum to at most 1");
          total += st.logprob();
        }
        assertEquals(total, r.logprobs().cumulative(), 1e-9);
      }
    }
  }

  @Test
  void serverLogprobsMapOntoTheSameShapeForCompletionsAndChat() throws Exception {
    try (FakeOpenAi server =
            new FakeOpenAi(
                call -> {
                  var resp = FakeOpenAi.JSON.createObjectNode();
                  var c = resp.putArray("choices").addObject().put("index", 0);
                  c.put("finish_reason", "stop");
                  if (call.chat()) {
                    c.putObject("message").put("role", "assistant").put("content", "Paris");
                    var content = c.putObject("logprobs").putArray("content");
                    var t0 = content.addObject().put("token", "[Relevant]").put("logprob", -0.1);
                    t0.putArray("top_logprobs")
                        .add(
                            FakeOpenAi.JSON
                                .createObjectNode()
                                .put("token", "[Relevant]")
                                .put("logprob", -0.1))
                        .add(
                            FakeOpenAi.JSON
                                .createObjectNode()
                                .put("token", "[Irrelevant]")
                                .put("logprob", -2.5));
                    content
                        .addObject()
                        .put("token", "Paris")
                        .put("logprob", -0.5)
                        .putArray("top_logprobs");
                  } else {
                    c.put("text", "Paris");
                    var lp = c.putObject("logprobs");
                    lp.putArray("tokens").add("[Relevant]").add("Paris");
                    lp.putArray("token_logprobs").add(-0.1).add(-0.5);
                    var top = lp.putArray("top_logprobs");
                    top.addObject().put("[Relevant]", -0.1).put("[Irrelevant]", -2.5);
                    top.addObject().put("Paris", -0.5);
                  }
                  resp.putObject("usage").put("prompt_tokens", 3).put("completion_tokens", 2);
                  return FakeOpenAi.Reply.status(200, resp.toString());
                });
        OpenAiGenerator gen =
            new OpenAiGenerator(RemoteSettings.defaults(server.endpoint(), "m"))) {
      List<LogprobResult> out =
          gen.generateWithLogprobs(
              List.of(
                  GenerationRequest.text("t", "q", SamplingParams.greedy(5)),
                  GenerationRequest.chat(
                      "c",
                      List.of(dev.editforge.llm.ChatMessage.user("q2")),
                      SamplingParams.greedy(5))),
              new LogprobRequest(7, ReflectionTokens.ALL));
      for (LogprobResult r : out) {
        assertTrue(r.ok(), r.error());
        assertEquals("Paris", r.text());
        assertEquals(2, r.logprobs().size());
        TokenLogprobs.Step first = r.logprobs().steps().get(0);
        assertEquals("[Relevant]", first.token());
        assertEquals(-2.5, first.logprob("[Irrelevant]"), 1e-12);
        assertEquals(
            TokenLogprobs.ABSENT, first.logprob("[Utility:5]"), "outside the top-k: absent");
        assertEquals(-0.6, r.logprobs().cumulative(), 1e-12);
      }
      JsonNode text = server.calls("q").get(0).body();
      assertEquals(7, text.path("logprobs").asInt());
      JsonNode chat = server.calls("q2").get(0).body();
      assertTrue(chat.path("logprobs").asBoolean());
      assertEquals(7, chat.path("top_logprobs").asInt());
    }
  }
}
