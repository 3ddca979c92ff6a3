package dev.editforge.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import dev.editforge.CliRun;
import dev.editforge.llm.remote.FakeOpenAi;
import dev.editforge.text.LogicSftRecipe;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code generate --what reasoning --recipe logic-sft} against an OpenAI-compatible server: what
 * goes over the wire is the seed's teacher conversation, system role first, with its stop strings.
 */
class LogicSftRemoteGenerateTest {
  @TempDir Path dir;

  @Test
  void teacherRequestsCarryTheSeedsSystemAndUserMessagesAndStopStrings() throws Exception {
    Path input = dir.resolve("logic.jsonl");
    Files.writeString(
        input,
        "{\"id\": \"P1\", \"problem\": \"甲说乙说谎。\", \"questions\": ["
            + "{\"question\": \"谁说了真话？\", \"options\": [\"甲\", \"乙\"], \"answer\": \"B\"},"
            + "{\"question\": \"谁在说谎？\", \"options\": [\"甲\", \"乙\"], \"answer\": null}]}\n");
    Path run = dir.resolve("run");
    CliRun ing = CliRun.of("ingest", "--input", "logic:" + input, "--run-dir", run.toString());
    assertEquals(0, ing.exitCode(), ing.toString());
    try (FakeOpenAi server =
        new FakeOpenAi(call -> FakeOpenAi.Reply.text(call, "乙说的是真话。\n答案是:B"))) {
      CliRun r =
          CliRun.of(
              RemoteGenerateTest.prepend(
                  "generate",
                  RemoteGenerateTest.remote(
                      server.endpoint().toString(),
                      run,
                      "--what",
                      "reasoning",
                      "--n",
                      "1",
                      "--recipe",
                      "logic-sft",
                      "--set",
                      "generate.chat=true")));
      assertEquals(0, r.exitCode(), r.toString());
      List<JsonNode> teacher = new ArrayList<>();
      List<JsonNode> student = new ArrayList<>();
      for (FakeOpenAi.Call c : server.calls) {
        (c.key().endsWith("### 答案\nB") ? teacher : student).add(c.body());
      }
      assertEquals(1, teacher.size(), server.calls.toString());
      assertEquals(1, student.size(), server.calls.toString());
      JsonNode t = teacher.get(0).path("messages");
      assertEquals(2, t.size());
      assertEquals("system", t.get(0).path("role").asText());
      assertEquals(LogicSftRecipe.TEACHER_SYSTEM, t.get(0).path("content").asText());
      assertEquals("user", t.get(1).path("role").asText());
      assertEquals(
          "### 题目\n甲说乙说谎。\n### 问题\n谁说了真话？\nA: 甲\nB: 乙\n### 答案\nB",
          t.get(1).path("content").asText());
      List<String> stop = new ArrayList<>();
      teacher.get(0).path("stop").forEach(s -> stop.add(s.asText()));
      assertEquals(List.of("---", "### 题目", "### 问题"), stop);
      JsonNode s = student.get(0).path("messages");
      assertEquals(1, s.size());
      assertEquals(
          LogicSftRecipe.inferencePrompt("甲说乙说谎。", "谁在说谎？", List.of("甲", "乙")),
          s.get(0).path("content").asText());
    }
  }
}
