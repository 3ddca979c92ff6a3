package dev.editforge.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.CliRun;
import dev.editforge.TestSpark;
import dev.editforge.io.Manifest;
import dev.editforge.llm.TinyModels;
import dev.editforge.spark.ExecutorModelCache;
import dev.editforge.text.SelfEditPrompts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code editforge generate --what self-edits} on the bundled sample with a tiny local model. */
class SelfEditJobTest {
  static final String SAMPLE = "src/main/resources/editforge/sample/articles.json";

  @TempDir static Path shared;

  static Path model;

  @BeforeAll
  static void writeModel() {
    // The sample's passages are ~250 tokens: widen the tiny model's window.
    model =
        TinyModels.write(
            shared.resolve("tiny-qwen"),
            TinyModels.Family.QWEN2,
            TinyModels.config(TinyModels.Family.QWEN2, TinyModels.Size.TINY)
                .withMaxPositionEmbeddings(1024),
            7);
  }

  static Path ingested(Path run) {
    CliRun r = CliRun.of("ingest", "--input", "squad:" + SAMPLE, "--run-dir", run.toString());
    assertEquals(0, r.exitCode(), r.toString());
    return run;
  }

  static CliRun generate(Path run, int k, String... extra) {
    List<String> args =
        new java.util.ArrayList<>(
            List.of(
                "generate",
                "--model",
                model.toString(),
                "--k",
                Integer.toString(k),
                "--run-dir",
                run.toString(),
                "--set",
                "generate.self-edit.max-new-tokens=3"));
    args.addAll(List.of(extra));
    CliRun r = CliRun.of(args.toArray(String[]::new));
    assertEquals(0, r.exitCode(), r.toString());
    return r;
  }

  static List<Row> edits(Path run) {
    return TestSpark.session()
        .read()
        .parquet(run.resolve("self_edits").toString())
        .orderBy("article_id", "sampling.sample_index")
        .collectAsList();
  }

  static Manifest manifest(Path run) throws Exception {
    return Manifest.parse(Files.readString(run.resolve("self_edits").resolve("_manifest.json")));
  }

  @Test
  void kSeededRowsPerArticleReproducedByARerunAndResumedSampleBySample(@TempDir Path dir)
      throws Exception {
    Path a = ingested(dir.resolve("a"));
    Path b = ingested(dir.resolve("b"));
    Map<String, Row> articles =
        TestSpark.session()
            .read()
            .parquet(a.resolve("articles").toString())
            .collectAsList()
            .stream()
            .collect(Collectors.toMap(r -> r.getString(0), r -> r));

    // b: k = 2 in one go, in chunks of 16 tasks (2 chunks).
    generate(b, 2, "--set", "generate.chunk-size=16");
    List<Row> full = edits(b);
    assertEquals(2 * articles.size(), full.size());
    assertEquals(
        full.size(),
        new HashSet<>(full.stream().map(r -> r.getString(0)).toList()).size(),
        "edit ids are unique");
    for (Row r : full) {
      Row article = articles.get(r.getString(1));
      int s = r.getStruct(6).getInt(5);
      assertEquals("implications", r.getString(2));
      assertEquals(
          SelfEditPrompts.builtIn()
              .render("implications", article.getString(1), article.getString(2)),
          r.getString(3));
      assertEquals("tiny-qwen", r.getString(5));
      long seed = r.getStruct(6).getLong(4);
      assertTrue(
          seed == SelfEditJob.taskSeed(42, r.getString(1), "implications", s)
              || seed
                  == BatchRunner.attemptSeed(
                      SelfEditJob.taskSeed(42, r.getString(1), "implications", s), 1)
              || seed
                  == BatchRunner.attemptSeed(
                      SelfEditJob.taskSeed(42, r.getString(1), "implications", s), 2),
          "seed of " + r);
      assertEquals(1.0, r.getStruct(6).getDouble(0));
      assertEquals(3, r.getStruct(6).getInt(3));
      assertNull(r.get(8), "error of " + r);
      assertTrue(!r.getString(4).isBlank());
      assertTrue(List.of("stop", "length").contains(r.getString(7)));
      assertEquals(
          SelfEditJob.editId(r.getString(1), "implications", s, seed, "tiny-qwen"), r.getString(0));
    }
    Manifest mb = manifest(b);
    assertEquals(30, mb.count("generated"));
    assertEquals(0, mb.count("errors"));
    assertTrue(mb.count("completion_tokens") > 0);
    assertTrue(mb.get("executors").toString().contains("device=cpu()"), mb.toJson());
    assertEquals(
        1,
        ExecutorModelCache.loaded().stream()
            .filter(
                key -> key.model().contains("tiny-qwen") && key.variant().startsWith("generate:"))
            .count(),
        "one model per executor JVM whatever the partitions and chunks: "
            + ExecutorModelCache.loaded());

    // a: k = 1, then k = 2 keeps the 15 first samples and generates only the 15 second ones.
    // Asking for a GPU in local mode: no resource profile, and the CPU (no CUDA here) with a
    // warning.
    generate(a, 1, "--set", "generate.gpus-per-task=1");
    Manifest first = manifest(a);
    assertTrue(
        first.get("resource_profile").toString().contains("no stage-level scheduling"),
        first.toJson());
    List<Row> firstSamples = edits(a);
    assertEquals(articles.size(), firstSamples.size());
    CliRun second = generate(a, 2);
    Manifest ma = manifest(a);
    assertEquals(15, ma.count("reused"), ma.toJson());
    assertEquals(15, ma.count("generated"), ma.toJson());
    assertTrue(second.out().contains("15 kept from earlier runs"), second.toString());
    List<Row> resumed = edits(a);
    assertEquals(full, resumed, "a resumed run writes the rows a one-go run writes");
    assertTrue(resumed.containsAll(firstSamples));

    // Same settings again: nothing to do.
    CliRun again = generate(b, 2, "--set", "generate.chunk-size=16");
    assertTrue(again.out().contains("self_edits skipped: up-to-date"), again.toString());
    assertEquals(full, edits(b));
    assertTrue(
        Files.notExists(b.resolve("_work/self_edits")),
        "the work chunks are gone after the commit");
  }

  @Test
  void runGeneratesWhatGenerateWhatListsAfterIngest(@TempDir Path dir) throws Exception {
    Path run = dir.resolve("run");
    CliRun r =
        CliRun.of(
            "run",
            "--to",
            "generate",
            "--input",
            "squad:" + SAMPLE,
            "--input",
            "logic:src/main/resources/editforge/sample/logic.jsonl",
            "--run-dir",
            run.toString(),
            "--set",
            "generate.model=" + model,
            "--set",
            "generate.what=[self-edits, reasoning]",
            "--set",
            "generate.self-edit.k=1",
            "--set",
            "generate.self-edit.max-new-tokens=2",
            "--set",
            "generate.reasoning.max-new-tokens=2");
    assertEquals(0, r.exitCode(), r.toString());
    assertEquals(
        15, TestSpark.session().read().parquet(run.resolve("self_edits").toString()).count());
    long questions =
        TestSpark.session()
            .read()
            .parquet(run.resolve("problems").toString())
            .selectExpr("sum(size(questions))")
            .first()
            .getLong(0);
    Manifest m =
        Manifest.parse(Files.readString(run.resolve("reasoning").resolve("_manifest.json")));
    assertEquals(questions, m.count("input"), m.toJson());
    assertEquals(m.count("input"), m.count("output"));
    CliRun again =
        CliRun.of(
            "run",
            "--to",
            "generate",
            "--input",
            "squad:" + SAMPLE,
            "--input",
            "logic:src/main/resources/editforge/sample/logic.jsonl",
            "--run-dir",
            run.toString(),
            "--set",
            "generate.model=" + model,
            "--set",
            "generate.what=[self-edits, reasoning]",
            "--set",
            "generate.self-edit.k=1",
            "--set",
            "generate.self-edit.max-new-tokens=2",
            "--set",
            "generate.reasoning.max-new-tokens=2");
    assertEquals(0, again.exitCode(), again.toString());
    assertTrue(again.out().contains("self_edits skipped: up-to-date"), again.toString());
  }
}
