package dev.editforge.predict;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.editforge.CliRun;
import dev.editforge.TestSpark;
import dev.editforge.cli.CommonOptions;
import dev.editforge.cli.Launch;
import dev.editforge.io.Manifest;
import dev.editforge.llm.Completion;
import dev.editforge.llm.FinishReason;
import dev.editforge.llm.GenerationRequest;
import dev.editforge.llm.GenerationResult;
import dev.editforge.llm.TextGenerator;
import dev.editforge.spark.HadoopConf;
import dev.editforge.spark.StageOutcome;
import dev.editforge.spark.StageRunner;
import dev.editforge.text.Json;
import dev.editforge.text.LogicSftRecipe;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentLinkedQueue;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** predict with a scripted model: majority, retry, fallback, and the submission's shape. */
class PredictJobTest {
  static final ConcurrentLinkedQueue<String> PROMPTS = new ConcurrentLinkedQueue<>();

  /**
   * Answers by the problem's text and the request's attempt and vote: "多数" votes A, B, B; "重试" says
   * nothing parseable on attempt 0 and D, A, D on attempt 1 (D's first sample runs on into a
   * made-up problem that the cut removes); "无解" never answers.
   */
  static final class Scripted implements PredictJob.Generators {
    @Override
    public TextGenerator open(String model, PredictSettings settings, HadoopConf conf) {
      return new TextGenerator() {
        @Override
        public List<GenerationResult> generate(List<GenerationRequest> requests) {
          List<GenerationResult> out = new ArrayList<>();
          for (GenerationRequest r : requests) {
            PROMPTS.add(r.prompt());
            int attempt = Integer.parseInt(r.id().replaceAll(".*-a(\\d+)-v.*", "$1"));
            int vote = Integer.parseInt(r.id().replaceAll(".*-v(\\d+)", "$1"));
            String text = response(r.prompt(), attempt, vote);
            out.add(
                new GenerationResult(
                    r.id(),
                    List.of(new Completion(text, List.of(1), FinishReason.STOP, 1)),
                    1,
                    null));
          }
          return out;
        }

        @Override
        public String modelName() {
          return "scripted";
        }

        @Override
        public void close() {}
      };
    }

    static String response(String prompt, int attempt, int vote) {
      if (prompt.contains("多数")) {
        return List.of("分析\n答案是:A", "答案是:B", "答案是：Ｂ").get(vote);
      }
      if (prompt.contains("重试")) {
        return attempt == 0
            ? "我不确定。"
            : List.of("答案是:D\n---\n### 题目\n答案是:A", "答案是:A", "答案是:D").get(vote);
      }
      return "我不知道。";
    }
  }

  static final String INPUT =
      "{\"problem\":\"多数：甲乙丙\",\"questions\":[{\"question\":\"谁？\",\"options\":[\"甲\",\"乙\",\"丙\"]}],\"id\":\"t_000\"}\n"
          + "\n"
          + "{\"problem\":\"重试\",\"questions\":[{\"question\":\"q1\",\"options\":[\"a\",\"b\",\"c\",\"d\"]},"
          + "{\"question\":\"q2\",\"options\":[\"a\",\"b\",\"c\"],\"answer\":\"A\"}],\"id\":\"t_001\",\"round\":1}\n"
          + "{\"id\":\"t_002\",\"problem\":\"无解\",\"questions\":[{\"question\":\"q\",\"options\":[\"a\",\"b\"]}]}\n";

  static StageOutcome run(Path dir, Path input, ByteArrayOutputStream console) throws Exception {
    TestSpark.session();
    CommonOptions o = new CommonOptions();
    o.runDir = dir.toString();
    o.sets = new ArrayList<>(List.of("predict.model=scripted"));
    Launch launch =
        Launch.of(
            "predict",
            o,
            Map.of("predict.input", "logic:" + input),
            new PrintStream(console, true, StandardCharsets.UTF_8));
    try {
      return StageRunner.of(launch.context()).run(new PredictJob(new Scripted()));
    } finally {
      launch.finish(0);
    }
  }

  @Test
  void majorityRetryAndFallbackIntoASubmissionInTheInputsShape(@TempDir Path tmp) throws Exception {
    Path input = tmp.resolve("test.jsonl");
    Files.writeString(input, INPUT);
    Path dir = tmp.resolve("run");
    ByteArrayOutputStream console = new ByteArrayOutputStream();
    StageOutcome outcome = run(dir, input, console);
    assertEquals(0, outcome.exitCode(), outcome + "\n" + console);

    List<String> lines = Files.readAllLines(dir.resolve("predictions/submission.jsonl"));
    assertEquals(3, lines.size());
    List<String> in = INPUT.lines().filter(l -> !l.isBlank()).toList();
    List<String> answers = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      JsonNode got = Json.COMPACT.readTree(lines.get(i));
      JsonNode original = Json.COMPACT.readTree(in.get(i));
      // Field order as in the input; every question gets its answer, nothing else changes.
      assertEquals(
          List.copyOf(iterable(original.fieldNames())), List.copyOf(iterable(got.fieldNames())));
      for (JsonNode q : got.get("questions")) {
        answers.add(q.get("answer").asText());
        ((ObjectNode) q).remove("answer");
      }
      for (JsonNode q : original.get("questions")) {
        ((ObjectNode) q).remove("answer");
      }
      assertEquals(original, got);
    }
    // 多数: B beats A 2:1 (full-width counts); 重试: nothing on attempt 1, then D 2:1 once the
    // made-up problem is cut off (the given "answer" is replaced); 无解 never answers: the
    // fallback after both attempts.
    assertEquals(List.of("B", "D", "D", "C"), answers);
    // The submission reads back as predict's (and ingest's) input.
    LogicInput back =
        LogicInput.parse(
            "submission", Files.readString(dir.resolve("predictions/submission.jsonl")));
    assertEquals(4, back.questions().size());
    assertEquals("t_001", back.questions().get(2).problemId());

    List<Row> rows =
        TestSpark.session()
            .read()
            .parquet(dir.resolve("predictions/questions").toString())
            .orderBy("problem_index", "question_index")
            .collectAsList();
    assertEquals(4, rows.size());
    assertEquals(1, rows.get(0).<Integer>getAs("attempts"));
    assertFalse(rows.get(0).<Boolean>getAs("fallback"));
    assertEquals(List.of("A", "B", "B"), rows.get(0).getList(rows.get(0).fieldIndex("votes")));
    assertEquals(2, rows.get(1).<Integer>getAs("attempts"));
    assertFalse(rows.get(1).<Boolean>getAs("fallback"));
    assertEquals(6, rows.get(1).getList(rows.get(1).fieldIndex("votes")).size());
    assertEquals(2, rows.get(3).<Integer>getAs("attempts"));
    assertTrue(rows.get(3).<Boolean>getAs("fallback"));
    assertEquals("C", rows.get(3).<String>getAs("answer"));

    Manifest m =
        Manifest.parse(Files.readString(dir.resolve("predictions").resolve("_manifest.json")));
    assertEquals(4, m.count("questions"));
    assertEquals(3, m.count("retried"));
    assertEquals(1, m.count("fallbacks"));
    assertTrue(
        PROMPTS.contains(LogicSftRecipe.inferencePrompt("多数：甲乙丙", "谁？", List.of("甲", "乙", "丙"))),
        "the recipe's inference prompt, raw");
  }

  @Test
  void aFileWithoutQuestionsIsExit2NamingTheLine(@TempDir Path tmp) throws Exception {
    Path input = tmp.resolve("bad.jsonl");
    Files.writeString(
        input,
        "{\"problem\":\"p\",\"questions\":[{\"question\":\"q\",\"options\":[\"a\"]}],\"id\":\"ok\"}\n"
            + "{\"problem\":\"p\",\"id\":\"round1_007\"}\n");
    CliRun r =
        CliRun.of(
            "predict",
            "--run-dir",
            tmp.resolve("run").toString(),
            "--input",
            "logic:" + input,
            "--model",
            tmp.resolve("no-model").toString());
    assertEquals(2, r.exitCode(), r.toString());
    String said = r.out() + r.err();
    assertTrue(said.contains("line 2 (id round1_007) has no \"questions\" array"), said);
  }

  @Test
  void inputMustBeLogic(@TempDir Path tmp) {
    CliRun r =
        CliRun.of("predict", "--run-dir", tmp.resolve("run").toString(), "--input", "squad:x.json");
    assertEquals(2, r.exitCode(), r.toString());
    assertTrue((r.out() + r.err()).contains("must be logic:FILE"), r.toString());
  }

  private static <T> List<T> iterable(java.util.Iterator<T> it) {
    List<T> out = new ArrayList<>();
    it.forEachRemaining(out::add);
    return out;
  }
}
