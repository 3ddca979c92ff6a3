package dev.editforge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.editforge.CliRun;
import dev.editforge.TestSpark;
import dev.editforge.generate.TinyRandomModel;
import dev.editforge.text.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code editforge iterate}: two ReST^EM rounds with a tiny random model, a rerun, refusals. */
class IterateCommandTest {
  @TempDir static Path dir;
  static Path model;
  static Path train;
  static Path heldout;

  @BeforeAll
  static void setUp() throws Exception {
    ai.djl.engine.Engine.getEngine("PyTorch");
    model = TinyRandomModel.write(dir.resolve("model"), 64, 2, 1024, 7);
    Path sample = DemoCommand.extractSample(dir.resolve("sample"));
    JsonNode all = Json.MAPPER.readTree(sample.resolve("articles.json").toFile());
    var first = Json.MAPPER.createArrayNode();
    for (int i = 0; i < 8; i++) {
      first.add(all.get(i));
    }
    Files.writeString(dir.resolve("eight.json"), Json.MAPPER.writeValueAsString(first));
    train = dir.resolve("train.json");
    heldout = dir.resolve("heldout.json");
    DemoCommand.splitSquad(dir.resolve("eight.json"), 2, train, heldout);
  }

  static CliRun iterate(Path run, String heldoutSpec, String... extra) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "iterate",
                "--run-dir",
                run.toString(),
                "--model",
                model.toString(),
                "--train",
                "squad:" + train,
                "--heldout",
                heldoutSpec,
                "--set",
                "iterate.articles-per-round=2",
                "--set",
                "generate.self-edit.max-new-tokens=12",
                "--set",
                "ttt.epochs=1",
                "--set",
                "ttt.max-new-tokens=6",
                "--set",
                "ttt.max-length=96",
                "--set",
                "finetune.max-steps=2",
                "--set",
                "finetune.checkpoint-every=1",
                "--set",
                "finetune.max-length=96",
                "--set",
                "ttt.eval-times=1",
                "--set",
                "evaluate.max-new-tokens=6"));
    args.addAll(List.of(extra));
    return CliRun.of(args.toArray(new String[0]));
  }

  static JsonNode manifest(Path table) throws Exception {
    return Json.MAPPER.readTree(table.resolve("_manifest.json").toFile());
  }

  static CliRun reference;

  /** The uninterrupted 2-round run in {@code dir/iter} (run once, shared by the tests). */
  static synchronized CliRun reference() {
    if (reference == null) {
      reference = iterate(dir.resolve("iter"), "squad:" + heldout, "--rounds", "2");
      assertEquals(0, reference.exitCode(), reference.toString());
      referenceRounds = roundsWithoutPaths(dir.resolve("iter"));
    }
    return reference;
  }

  static List<String> referenceRounds;

  /** The rounds table's rows without policy_model (a path in the run directory). */
  static List<String> roundsWithoutPaths(Path run) {
    List<String> out = new ArrayList<>();
    for (Row r :
        TestSpark.session()
            .read()
            .parquet(run.resolve("rounds").toString())
            .drop("policy_model")
            .orderBy("round")
            .collectAsList()) {
      out.add(r.toString());
    }
    return out;
  }

  @Test
  void twoRoundsFeedTheMergedModelForwardAndARerunSkips() throws Exception {
    Path run = dir.resolve("iter");
    CliRun first = reference();

    // Round 1's self-edits were written (and scored) by round 0's merged model.
    String merged0 = run.resolve("round-0/finetune/merged").toAbsolutePath().toString();
    Set<String> writers = new HashSet<>();
    for (Row r :
        TestSpark.session()
            .read()
            .parquet(run.resolve("round-1/self_edits").toString())
            .select("model")
            .distinct()
            .collectAsList()) {
      writers.add(r.getString(0));
    }
    assertEquals(Set.of("merged"), writers, first.out());
    assertEquals(
        merged0, manifest(run.resolve("round-1/self_edits")).get("model_dir").asText(), "writer");
    assertEquals(
        model.toAbsolutePath().toString(),
        manifest(run.resolve("round-0/self_edits")).get("model_dir").asText());
    assertEquals(merged0, manifest(run.resolve("round-1/articles")).get("policy_model").asText());
    assertEquals(
        model.toAbsolutePath().toString(),
        manifest(run.resolve("round-0/articles")).get("policy_model").asText());
    assertEquals(
        merged0, manifest(run.resolve("round-1/ttt_scores")).get("model").asText(), "TTT base");

    // Disjoint draws of 2 articles each.
    List<String> a0 = ids(run.resolve("round-0/articles"));
    List<String> a1 = ids(run.resolve("round-1/articles"));
    assertEquals(2, a0.size());
    assertEquals(2, a1.size());
    assertTrue(a0.stream().noneMatch(a1::contains), a0 + " " + a1);

    List<Row> rounds =
        TestSpark.session()
            .read()
            .parquet(run.resolve("rounds").toString())
            .orderBy("round")
            .collectAsList();
    assertEquals(2, rounds.size());
    assertEquals(0, rounds.get(0).getInt(0));
    assertEquals(merged0, rounds.get(1).getString(1));
    assertNotEquals(rounds.get(0).getString(2), rounds.get(1).getString(2));
    for (Row r : rounds) {
      assertTrue(r.getLong(7) > 0, "sft rows: " + r);
      assertNotNull(r.get(8), "eval accuracy: " + r);
    }
    assertTrue(first.out().contains("eval_acc"), first.out());
    assertTrue(first.out().contains("seal_pol"), first.out());

    // SEAL's evaluation ran after every round on the held-out articles, its policy edits written
    // by the model the round trained; the rounds row carries its manifest's four means.
    List<String> held = ids(run.resolve("heldout/articles"));
    String[] sealKeys = {"no_training", "passage_only", "base_edits", "policy_edits"};
    for (int r = 0; r < 2; r++) {
      Path seal = run.resolve("round-" + r + "/evaluation_seal");
      List<String> evaluated = ids(seal);
      assertEquals(held.size(), evaluated.size(), "one row per held-out article: " + evaluated);
      assertEquals(new HashSet<>(held), new HashSet<>(evaluated));
      JsonNode m = manifest(seal);
      assertEquals(
          run.resolve("round-" + r + "/finetune/merged").toAbsolutePath().toString(),
          m.get("policy_model").asText());
      assertEquals(model.toAbsolutePath().toString(), m.get("base_model").asText());
      Row row = rounds.get(r);
      for (String k : sealKeys) {
        Object v = row.get(row.fieldIndex("seal_" + k));
        assertNotNull(v, "seal_" + k + ": " + row);
        assertEquals(m.get(k).asDouble(), (Double) v, 1e-12, "seal_" + k);
      }
      // the manifest's means are the means of the table's rows
      for (String k : sealKeys) {
        double mean =
            TestSpark.session()
                .read()
                .parquet(seal.toString())
                .agg(org.apache.spark.sql.functions.avg(k))
                .first()
                .getDouble(0);
        assertEquals(mean, m.get(k).asDouble(), 1e-9, k);
      }
    }

    CliRun second = iterate(run, "squad:" + heldout, "--rounds", "2");
    assertEquals(0, second.exitCode(), second.toString());
    for (String table :
        List.of(
            "round-0/articles",
            "round-0/self_edits",
            "round-0/ttt_scores",
            "round-0/sft",
            "round-0/finetune",
            "round-0/evaluation",
            "round-0/evaluation_seal",
            "round-1/articles",
            "round-1/self_edits",
            "round-1/ttt_scores",
            "round-1/sft",
            "round-1/finetune",
            "round-1/evaluation",
            "round-1/evaluation_seal",
            "rounds")) {
      assertEquals(
          "skipped",
          manifest(run.resolve(table)).get("status").asText(),
          table + ": " + second.out());
    }

    // Round 1 stopped before its score committed (its scores and everything after are gone): a
    // rerun redoes round 1 from score on, leaves round 0 alone, and ends with the same table.
    for (String t :
        List.of(
            "round-1/ttt_scores",
            "round-1/sft",
            "round-1/finetune",
            "round-1/evaluation",
            "rounds")) {
      delete(run.resolve(t));
    }
    CliRun resumed = iterate(run, "squad:" + heldout, "--rounds", "2");
    assertEquals(0, resumed.exitCode(), resumed.toString());
    assertEquals("skipped", manifest(run.resolve("round-0/finetune")).get("status").asText());
    assertEquals("skipped", manifest(run.resolve("round-1/self_edits")).get("status").asText());
    assertEquals("completed", manifest(run.resolve("round-1/ttt_scores")).get("status").asText());
    List<Row> again =
        TestSpark.session()
            .read()
            .parquet(run.resolve("rounds").toString())
            .orderBy("round")
            .collectAsList();
    assertEquals(rounds.toString(), again.toString(), resumed.out());
  }

  /**
   * Kills round 1's score after its first committed batch: with ttt.commit-every=1 each article is
   * a batch (its own Spark job); a listener cancels the job of round 1's last batch as it starts,
   * so the other batch commits and the stage fails, as a run killed mid-score leaves it. The rerun
   * resumes inside score and ends with the uninterrupted run's rounds table.
   */
  @Test
  void aKillInRoundOnesScoreThenARerunEndsWithTheSameRoundsTable() throws Exception {
    reference();
    Path run = dir.resolve("killed");
    Path round1 = run.resolve("round-1/self_edits/_manifest.json");
    java.util.concurrent.atomic.AtomicInteger cancelled =
        new java.util.concurrent.atomic.AtomicInteger();
    var sc = TestSpark.session().sparkContext();
    var killer =
        new org.apache.spark.scheduler.SparkListener() {
          @Override
          public void onJobStart(org.apache.spark.scheduler.SparkListenerJobStart e) {
            String d =
                e.properties() == null ? null : e.properties().getProperty("spark.job.description");
            // round 1's score runs once round 1's self-edits are committed; cancel a batch
            // other than the first
            if (d != null
                && d.startsWith("score: batch ")
                && !d.startsWith("score: batch 1/")
                && Files.exists(round1)
                && cancelled.getAndIncrement() == 0) {
              sc.cancelJob(e.jobId());
            }
          }
        };
    sc.addSparkListener(killer);
    CliRun killed;
    try {
      killed = iterate(run, "squad:" + heldout, "--rounds", "2", "--set", "ttt.commit-every=1");
    } finally {
      sc.removeSparkListener(killer);
    }
    assertNotEquals(0, killed.exitCode(), killed.toString());
    assertEquals(1, cancelled.get(), killed.toString());
    assertTrue(
        killed.err().contains("score failed after committing 1 of 2 batches"), killed.toString());
    assertFalse(Files.exists(run.resolve("round-1/ttt_scores/_SUCCESS")), killed.toString());
    try (Stream<Path> parts = Files.list(run.resolve("round-1/_work/score"))) {
      assertEquals(
          1,
          parts.filter(x -> Files.exists(x.resolve("_COMMITTED"))).count(),
          "one committed batch: " + killed);
    }

    CliRun rerun = iterate(run, "squad:" + heldout, "--rounds", "2", "--set", "ttt.commit-every=1");
    assertEquals(0, rerun.exitCode(), rerun.toString());
    assertEquals("skipped", manifest(run.resolve("round-0/finetune")).get("status").asText());
    JsonNode scores = manifest(run.resolve("round-1/ttt_scores"));
    assertEquals("completed", scores.get("status").asText());
    assertTrue(
        scores.get("counts").get("resumed_articles").asLong() >= 1, scores + "\n" + rerun.out());
    assertEquals(referenceRounds, roundsWithoutPaths(run), rerun.out());
  }

  @Test
  void demoRunsTheLoopOnTheBundledSample() throws Exception {
    Path run = dir.resolve("demo");
    CliRun demo =
        CliRun.of(
            "demo",
            "--rounds",
            "2",
            "--model",
            model.toString(),
            "--run-dir",
            run.toString(),
            "--set",
            "iterate.articles-per-round=1",
            "--set",
            "generate.self-edit.max-new-tokens=8",
            "--set",
            "ttt.epochs=1",
            "--set",
            "ttt.max-new-tokens=4",
            "--set",
            "finetune.max-steps=1",
            "--set",
            "evaluate.max-new-tokens=4");
    assertEquals(0, demo.exitCode(), demo.toString());
    assertEquals(2L, TestSpark.session().read().parquet(run.resolve("rounds").toString()).count());
    assertEquals(
        DemoCommand.HELDOUT,
        manifest(run.resolve("round-1/evaluation")).get("articles").asInt(),
        "the sample's last articles are held out");
    // the report, printed last, covers every round and reads its sections from the last one
    List<String> lines = demo.out().lines().filter(l -> !l.isBlank()).toList();
    assertEquals("report: " + run.resolve("report.html"), lines.get(lines.size() - 1));
    String html = Files.readString(run.resolve("report.html"));
    assertTrue(html.contains("round-0/ttt_scores") && html.contains("From <code>round-1</code>"));
    assertTrue(
        html.contains("<section id=\"rounds\">\n<h2>ReST^EM rounds</h2>\n<div class=\"chart\">"));
  }

  static void delete(Path p) throws Exception {
    try (Stream<Path> s = Files.walk(p)) {
      for (Path f : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.delete(f);
      }
    }
  }

  static List<String> ids(Path table) {
    return TestSpark.session()
        .read()
        .parquet(table.toString())
        .select("article_id")
        .collectAsList()
        .stream()
        .map(r -> r.getString(0))
        .toList();
  }

  @Test
  void badInputIsRefusedBeforeAnyRound() throws Exception {
    Path zero = dir.resolve("zero");
    CliRun r0 = iterate(zero, "squad:" + heldout, "--rounds", "0");
    assertEquals(2, r0.exitCode(), r0.toString());
    assertTrue(r0.err().contains("--rounds 0"), r0.toString());
    assertNoRounds(zero);

    Path many = dir.resolve("many");
    CliRun r1 = iterate(many, "squad:" + heldout, "--rounds", "4");
    assertEquals(2, r1.exitCode(), r1.toString());
    assertTrue(r1.err().contains("has only 6"), r1.toString());
    assertNoRounds(many);

    Path overlap = dir.resolve("overlap");
    CliRun r2 = iterate(overlap, "squad:" + train, "--rounds", "1");
    assertEquals(2, r2.exitCode(), r2.toString());
    assertTrue(r2.err().contains("also training articles"), r2.toString());
    assertNoRounds(overlap);
  }

  static void assertNoRounds(Path run) throws Exception {
    if (!Files.exists(run)) {
      return;
    }
    try (Stream<Path> s = Files.list(run)) {
      assertFalse(
          s.anyMatch(p -> p.getFileName().toString().startsWith("round")),
          "a round directory was created in " + run);
    }
  }
}
