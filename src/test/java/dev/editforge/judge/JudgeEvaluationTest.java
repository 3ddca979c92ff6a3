package dev.editforge.judge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.editforge.SharedData;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class JudgeEvaluationTest {
  static final Pattern LAST =
      Pattern.compile("JUDGE best=(\\S+) kappa=(\\S+) accuracy=(\\S+) n=(\\d+)");

  static String run(Path file) {
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    JudgeEvaluation.run(file, new PrintStream(bytes, true, StandardCharsets.UTF_8));
    return bytes.toString(StandardCharsets.UTF_8);
  }

  static Matcher lastLine(String out) {
    String[] lines = out.strip().split("\n");
    Matcher m = LAST.matcher(lines[lines.length - 1]);
    assertTrue(m.matches(), lines[lines.length - 1]);
    return m;
  }

  static String q(
      String question,
      String answer,
      String base,
      boolean baseOk,
      String adapter,
      boolean adapterOk) {
    return "{\"rep\":0,\"question\":\""
        + question
        + "\",\"answer\":\""
        + answer
        + "\",\"baseline_answer\":\""
        + base
        + "\",\"baseline_correct\":"
        + baseOk
        + ",\"adapter_answer\":\""
        + adapter
        + "\",\"adapter_correct\":"
        + adapterOk
        + "}";
  }

  @Test
  void smallRunPicksTheJudgeThatAgrees(@TempDir Path dir) throws Exception {
    // GPT said yes to lower-case "otrar" and to an answer with extra words, no to a wrong one.
    String qs =
        String.join(
            ",",
            q("Where?", "Otrar", "the town of otrar", true, "Bukhara", false),
            q("Who?", "Subutai and Jebe", "Subutai and Jebe did", true, "", false));
    String json =
        "{\"articles\":[{\"title\":\"T\",\"context\":\"C\",\"prompt\":\"P\",\"completions\":[{\"text\":\"E\","
            + "\"stats\":{\"adapter_mean\":0.0,\"baseline_mean\":1.0},\"questions\":["
            + qs
            + "]}]}]}";
    Path f = dir.resolve("run.json");
    Files.writeString(f, json);
    String out = run(f);
    Matcher m = lastLine(out);
    assertEquals("4", m.group(4));
    // contains misses the lower-case answer (kappa 0.5); normalized-contains gets all four.
    assertEquals("normalized-contains", m.group(1), out);
    assertEquals("1.0000", m.group(2));
    assertEquals("1.0000", m.group(3));
    assertTrue(
        out.contains("4 graded answers (4 distinct question/gold/answer triples, 1 blank)"), out);
  }

  @Test
  void unreadableFileIsAnUnusableInput(@TempDir Path dir) {
    var e =
        org.junit.jupiter.api.Assertions.assertThrows(
            dev.editforge.io.UnusableInputException.class, () -> run(dir.resolve("missing.json")));
    assertTrue(e.getMessage().startsWith("cannot read SEAL run"), e.getMessage());
  }

  @Test
  void sealRankIter0() throws Exception {
    Path file = SharedData.require("data/seal/rank_iter0.json");
    long expected = 0;
    long gptYes = 0;
    for (JsonNode a : SharedData.json("data/seal/rank_iter0.json").get("articles")) {
      for (JsonNode c : a.get("completions")) {
        for (JsonNode q : c.get("questions")) {
          expected += 2;
          gptYes +=
              (q.get("baseline_correct").asBoolean() ? 1 : 0)
                  + (q.get("adapter_correct").asBoolean() ? 1 : 0);
        }
      }
    }
    String out = run(file);
    System.out.print(out);
    Matcher m = lastLine(out);
    assertEquals(expected, Long.parseLong(m.group(4)));
    assertEquals(6750, expected);
    assertTrue(LocalJudges.NAMES.contains(m.group(1)), m.group(1));
    double kappa = Double.parseDouble(m.group(2));
    assertTrue(kappa > 0.5 && kappa < 1.0, "best kappa " + kappa);
    assertTrue(out.contains("reference GPT-4.1 says correct for " + gptYes), out);
    // Every judge's table row covers all judgments: tp+fn is GPT's yes count.
    var results =
        JudgeEvaluation.evaluate(
            JudgeEvaluation.judgments(dev.editforge.io.SealRunFile.read(file)),
            JudgeEvaluation.localJudges(JudgeSettings.defaults()));
    for (var r : results) {
      assertEquals(gptYes, r.agreement().tp() + r.agreement().fn(), r.judge().name());
      assertEquals(expected, r.agreement().n());
    }
    assertEquals(
        List.copyOf(LocalJudges.NAMES), results.stream().map(r -> r.judge().name()).toList());
  }
}
