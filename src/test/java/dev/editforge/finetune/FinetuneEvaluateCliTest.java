package dev.editforge.finetune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.editforge.CliRun;
import dev.editforge.TestSpark;
import dev.editforge.cli.FinetuneCommand;
import dev.editforge.cli.Launch;
import dev.editforge.io.Manifest;
import dev.editforge.io.Rows;
import dev.editforge.io.SftTable;
import dev.editforge.io.Tables;
import dev.editforge.llm.TinyModels;
import dev.editforge.text.Json;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** finetune and evaluate through the CLI on the shared local[2] session, with a tiny model. */
class FinetuneEvaluateCliTest {
  @TempDir static Path dir;
  static Path model;
  static Path articles;
  static final com.fasterxml.jackson.databind.ObjectMapper JSON = Json.MAPPER;

  @BeforeAll
  static void setUp() throws Exception {
    // Load the engine on this (the test) thread: DJL turns libtorch's per-thread grad mode off only
    // on
    // the loading thread, and later tests in this JVM train on the main thread.
    ai.djl.engine.Engine.getEngine("PyTorch");
    model = TinyModels.qwen2(dir.resolve("model"), TinyModels.Size.TINY, 31);
    articles = dir.resolve("heldout_articles");
    List<Row> rows = new ArrayList<>();
    for (int a = 0; a < 3; a++) {
      List<Row> qs = new ArrayList<>();
      for (int q = 0; q <= a; q++) {
        qs.add(
            RowFactory.create(
                "q" + a + "-" + q, "What is thing " + q + "?", Rows.seq(List.of("thing " + q))));
      }
      rows.add(RowFactory.create("art" + a, "Title " + a, "context " + a, Rows.seq(qs)));
    }
    TestSpark.session()
        .createDataFrame(rows, Tables.ARTICLES_SCHEMA)
        .coalesce(1)
        .write()
        .parquet(articles.toString());
  }

  static Path runWithSft(String name) throws Exception {
    Path run = dir.resolve(name);
    Path table = run.resolve("sft");
    SftTable.write(
        TestSpark.session(),
        FinetuneRunnerTest.rows(12),
        new org.apache.hadoop.fs.Path(table.toUri()));
    Files.writeString(
        table.resolve("_manifest.json"),
        Manifest.start("select", "sft", "c", "v", "f")
            .count("output", 12)
            .finish(Manifest.COMPLETED)
            .toJson());
    return run;
  }

  static String[] finetuneArgs(Path run) {
    return new String[] {
      "finetune",
      "--model",
      model.toString(),
      "--run-dir",
      run.toString(),
      "--max-steps",
      "6",
      "--batching",
      "concat",
      "--set",
      "finetune.batch-size=2",
      "--set",
      "finetune.learning-rate=0.02",
      "--set",
      "finetune.checkpoint-every=2",
      "--set",
      "finetune.eval-fraction=0.25",
      "--set",
      "finetune.lora.rank=4",
      "--set",
      "finetune.lora.alpha=8",
      "--set",
      "finetune.max-length=128",
      "--set",
      "finetune.chat-template=none"
    };
  }

  /** The same with a max shard size the tiny merged model exceeds. */
  static String[] shardedArgs(Path run) {
    List<String> args = new ArrayList<>(Arrays.asList(finetuneArgs(run)));
    args.addAll(List.of("--set", "finetune.max-shard-size=40kB"));
    return args.toArray(new String[0]);
  }

  /**
   * Runs finetune with the CLI's settings for {@code run}, {@code listener} called after every
   * training step inside the task; returns what it threw (the CLI would exit 1).
   */
  static Exception runWithListener(Path run, FinetuneRunner.StepListener listener) {
    String[] args = finetuneArgs(run);
    FinetuneCommand c = new FinetuneCommand();
    new CommandLine(c).parseArgs(Arrays.copyOfRange(args, 1, args.length));
    TestSpark.session();
    Launch launch =
        Launch.of(
            "finetune",
            c.common,
            c.flagOverrides(),
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
    return assertThrows(Exception.class, () -> launch.runner().run(new FinetuneJob(listener)));
  }

  @Test
  void finetuneLowersEvalLossWritesAdapterAndMergedModelThenSkipsAndEvaluateComparesBaseAndTuned()
      throws Exception {
    Path run = runWithSft("run1");
    CliRun r = CliRun.of(shardedArgs(run));
    assertEquals(0, r.exitCode(), r.toString());
    Path out = run.resolve("finetune");
    JsonNode m = JSON.readTree(out.resolve("_manifest.json").toFile());
    assertEquals("completed", m.get("status").asText());
    assertEquals(6, m.get("counts").get("steps").asInt());
    assertEquals(12, m.get("counts").get("input").asInt());
    assertEquals(3, m.get("counts").get("eval_samples").asInt());
    assertTrue(
        m.get("best_eval_loss").asDouble() < m.get("initial_eval_loss").asDouble() - 0.05,
        m.toString());
    assertTrue(Files.exists(out.resolve("adapter/adapter_model.safetensors")));
    // above finetune.max-shard-size the merged weights are shards + index (evaluate reads them)
    assertTrue(Files.exists(out.resolve("merged/model.safetensors.index.json")));
    assertTrue(Files.exists(out.resolve("merged/model-00002-of-" + shards(out) + ".safetensors")));
    assertTrue(Files.exists(out.resolve("merged/config.json")));
    JsonNode log = JSON.readTree(out.resolve("trainer_log.json").toFile());
    assertTrue(
        m.get("trainer_log").asText().endsWith("/run1/finetune/trainer_log.json"), m.toString());
    assertEquals(6, log.get("train_loss").size(), log.toString());
    assertEquals(List.of(2, 4, 6), steps(log.get("eval_loss")));
    // step and losses reached the driver's console, not only the executor's log
    for (JsonNode e : log.get("eval_loss")) {
      String line =
          String.format(
              java.util.Locale.ROOT,
              "finetune: step %d/6 train loss %.4f eval loss %.4f",
              e.get(0).asInt(),
              log.get("train_loss").get(e.get(0).asInt() - 1).get(1).asDouble(),
              e.get(1).asDouble());
      assertTrue(r.out().contains(line), line + " in\n" + r.out());
    }
    try (var s = Files.list(run.resolve("_work"))) {
      for (Path p : s.toList()) {
        assertTrue(
            !Files.exists(p.resolve("checkpoints")),
            "checkpoints are removed once the output is committed");
      }
    }

    CliRun again = CliRun.of(shardedArgs(run));
    assertEquals(0, again.exitCode(), again.toString());
    assertTrue(again.out().contains("finetune: skipped: up-to-date"), again.out());

    CliRun ev =
        CliRun.of(
            "evaluate",
            "--model",
            model.toString(),
            "--articles",
            articles.toString(),
            "--run-dir",
            run.toString(),
            "--set",
            "judge.kind=normalized-contains",
            "--set",
            "evaluate.max-new-tokens=6");
    assertEquals(0, ev.exitCode(), ev.toString());
    JsonNode summary = JSON.readTree(run.resolve("evaluation/summary.json").toFile());
    assertEquals(run.resolve("finetune/merged").toString(), summary.get("tuned_model").asText());
    assertEquals(3, summary.get("articles").asInt());
    assertEquals(6, summary.get("questions").asInt());
    assertTrue(ev.out().contains("TOTAL"), ev.out());
  }

  static String shards(Path finetune) throws Exception {
    try (var files = Files.list(finetune.resolve("merged"))) {
      long n =
          files.filter(p -> p.getFileName().toString().matches("model-.*\\.safetensors")).count();
      assertTrue(n >= 2, "shards: " + n);
      return String.format("%05d", n);
    }
  }

  static List<Integer> steps(JsonNode pairs) {
    List<Integer> out = new ArrayList<>();
    pairs.forEach(p -> out.add(p.get(0).asInt()));
    return out;
  }

  static final ByteArrayOutputStream CONSOLE = new ByteArrayOutputStream();

  /**
   * Holds the last training step until the driver's console shows the eval line of step 4: passes
   * only if progress is printed while the task still trains.
   */
  static final class AwaitProgressLine implements FinetuneRunner.StepListener {
    private static final long serialVersionUID = 1L;

    @Override
    public void afterStep(int step, int total) {
      if (step < total) {
        return;
      }
      long deadline = System.nanoTime() + 60_000_000_000L;
      while (!CONSOLE.toString(StandardCharsets.UTF_8).contains("finetune: step 4/6 train loss")) {
        if (System.nanoTime() > deadline) {
          throw new IllegalStateException("no progress line on the console while training");
        }
        try {
          Thread.sleep(50);
        } catch (InterruptedException e) {
          throw new IllegalStateException(e);
        }
      }
    }
  }

  @Test
  void progressLinesReachTheDriversConsoleWhileTheTaskStillTrains() throws Exception {
    Path run = runWithSft("progress");
    String[] args = finetuneArgs(run);
    FinetuneCommand c = new FinetuneCommand();
    new CommandLine(c).parseArgs(Arrays.copyOfRange(args, 1, args.length));
    TestSpark.session();
    CONSOLE.reset();
    Launch launch =
        Launch.of(
            "finetune",
            c.common,
            c.flagOverrides(),
            new PrintStream(CONSOLE, true, StandardCharsets.UTF_8));
    launch.runner().run(new FinetuneJob(new AwaitProgressLine()));
    String out = CONSOLE.toString(StandardCharsets.UTF_8);
    assertTrue(out.contains("finetune: step 6/6 train loss"), out);
    assertTrue(
        out.indexOf("finetune: step 4/6") < out.indexOf("finetune: step 6/6"),
        "in step order: " + out);
    assertTrue(Files.exists(run.resolve("finetune/_manifest.json")));
  }

  @Test
  void identicalModelsGiveIdenticalAnswersAndAccuracyInTheTableAndOutputs() throws Exception {
    Path run = dir.resolve("run2");
    CliRun ev =
        CliRun.of(
            "evaluate",
            "--model",
            model.toString(),
            "--tuned",
            model.toString(),
            "--articles",
            articles.toString(),
            "--run-dir",
            run.toString(),
            "--set",
            "judge.kind=normalized-contains",
            "--set",
            "evaluate.max-new-tokens=6",
            "--max-articles",
            "2");
    assertEquals(0, ev.exitCode(), ev.toString());
    JsonNode summary = JSON.readTree(run.resolve("evaluation/summary.json").toFile());
    assertEquals(
        2, summary.get("articles").asInt(), "max-articles keeps the first 2 by article_id");
    assertEquals(3, summary.get("questions").asInt());
    assertEquals(
        summary.get("base_accuracy").asDouble(), summary.get("tuned_accuracy").asDouble(), 0.0);
    assertEquals(0.0, summary.get("gain").asDouble(), 0.0);

    List<Row> perArticle =
        TestSpark.session()
            .read()
            .parquet(run.resolve("evaluation/articles").toString())
            .orderBy("article_id")
            .collectAsList();
    assertEquals(2, perArticle.size());
    assertEquals("art0", perArticle.get(0).getString(0));
    assertEquals(1, perArticle.get(0).getInt(2));
    assertEquals(2, perArticle.get(1).getInt(2));
    for (Row a : perArticle) {
      assertEquals(a.getInt(3), a.getInt(4), "same model, same correct count");
    }
    List<Row> perQuestion =
        TestSpark.session()
            .read()
            .parquet(run.resolve("evaluation/questions").toString())
            .collectAsList();
    assertEquals(3, perQuestion.size());
    for (Row q : perQuestion) {
      assertEquals(
          q.getString(q.fieldIndex("base_answer")), q.getString(q.fieldIndex("tuned_answer")));
    }
    // table: header, one line per article, totals, mean
    List<String> lines = ev.out().lines().toList();
    int header = -1;
    for (int i = 0; i < lines.size(); i++) {
      if (lines.get(i).startsWith("article_id")) {
        header = i;
      }
    }
    assertTrue(header >= 0, ev.out());
    assertTrue(lines.get(header + 1).startsWith("art0"));
    assertTrue(lines.get(header + 2).startsWith("art1"));
    assertTrue(lines.get(header + 3).startsWith("TOTAL"));
    JsonNode manifest = JSON.readTree(run.resolve("evaluation/_manifest.json").toFile());
    assertEquals(3, manifest.get("counts").get("questions").asInt());
  }

  @Test
  void aKilledFinetuneRerunResumesFromItsCheckpointAndEndsWithTheSameAdapter() throws Exception {
    Path whole = runWithSft("whole");
    assertEquals(0, CliRun.of(finetuneArgs(whole)).exitCode());
    Path killed = runWithSft("killed");
    Exception first =
        runWithListener(
            killed,
            (step, total) -> {
              if (step == 3) {
                throw new IllegalStateException("killed at step 3");
              }
            });
    assertTrue(
        String.valueOf(first.getMessage()).contains("killed at step 3"), String.valueOf(first));
    assertTrue(!Files.exists(killed.resolve("finetune")), "nothing committed by the killed run");
    CliRun resumed = CliRun.of(finetuneArgs(killed));
    assertEquals(0, resumed.exitCode(), resumed.toString());
    assertTrue(resumed.out().contains("resumed from step 2"), resumed.out());
    assertEquals(
        2,
        JSON.readTree(killed.resolve("finetune/_manifest.json").toFile())
            .get("counts")
            .get("resumed_from_step")
            .asInt());
    for (String f : List.of("adapter/adapter_model.safetensors", "merged/model.safetensors")) {
      assertTrue(
          java.util.Arrays.equals(
              Files.readAllBytes(whole.resolve("finetune").resolve(f)),
              Files.readAllBytes(killed.resolve("finetune").resolve(f))),
          f + " identical to the uninterrupted run's");
    }
  }

  @Test
  void finetuneWithoutAnSftTableOrModelIsAUsageError() throws Exception {
    // The sft table is checked first (absent, a pipeline passes finetune over), so give one here.
    Path sft = Files.createDirectories(dir.resolve("sft-elsewhere"));
    Files.writeString(sft.resolve("part-0.parquet"), "x");
    CliRun noModel =
        CliRun.of(
            "finetune",
            "--run-dir",
            dir.resolve("empty").toString(),
            "--set",
            "finetune.sft=" + sft);
    assertEquals(2, noModel.exitCode(), noModel.toString());
    assertTrue(noModel.err().contains("--model"), noModel.err());
    CliRun noSft =
        CliRun.of(
            "finetune", "--model", model.toString(), "--run-dir", dir.resolve("empty").toString());
    assertEquals(2, noSft.exitCode(), noSft.toString());
    assertTrue(noSft.err().contains("sft"), noSft.err());
  }
}
