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
                "evaluate.max-new-tokens=6"));
    args.addAll(List.of(extra));
    return CliRun.of(args.toArray(new String[0]));
  }

  static JsonNode manifest(Path table) throws Exception {
    return Json.MAPPER.readTree(table.resolve("_manifest.json").toFile());
  }

  @Test
  void twoRoundsFeedTheMergedModelForwardAndARerunSkips() throws Exception {
    Path run = dir.resolve("iter");
    CliRun first = iterate(run, "squad:" + heldout, "--rounds", "2");
    assertEquals(0, first.exitCode(), first.toString());

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
            "round-1/articles",
            "round-1/self_edits",
            "round-1/ttt_scores",
            "round-1/sft",
            "round-1/finetune",
            "round-1/evaluation",
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
