package dev.editforge.ttt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.editforge.CliRun;
import dev.editforge.TestSpark;
import dev.editforge.cli.CommonOptions;
import dev.editforge.cli.Launch;
import dev.editforge.cli.Pipeline;
import dev.editforge.cli.ScoreCommand;
import dev.editforge.io.Manifest;
import dev.editforge.io.Rows;
import dev.editforge.io.Tables;
import dev.editforge.spark.StageContext;
import dev.editforge.spark.StageOutcome;
import dev.editforge.spark.StageRunner;
import dev.editforge.text.Json;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Stage tests of score on the shared local[2] session, with a deterministic fake scorer. */
class ScoreJobTest {
  @TempDir Path dir;

  /**
   * Five scorable articles (A1-A5) with 6 usable edits, plus every kind of reject and a duplicate.
   */
  static void writeInputs(Path run) throws IOException {
    SparkSession spark = TestSpark.session();
    List<Row> articles = new ArrayList<>();
    for (int i = 1; i <= 5; i++) {
      List<Row> qs = new ArrayList<>();
      for (int q = 1; q <= 3; q++) {
        qs.add(
            RowFactory.create(
                "q" + i + q,
                "Question " + q + " about topic " + i + "?",
                Rows.seq(List.of("answer " + i + q))));
      }
      articles.add(
          RowFactory.create("A" + i, "Topic " + i, "Context of topic " + i + ".", Rows.seq(qs)));
    }
    articles.add(RowFactory.create("A6", "Topic 6", "No questions here.", Rows.seq(List.of())));
    write(spark.createDataFrame(articles, Tables.ARTICLES_SCHEMA), run, Tables.ARTICLES);

    List<Row> edits = new ArrayList<>();
    edits.add(edit("e1", "A1", "1. First implication.\n2. Second implication.", null));
    edits.add(edit("e2", "A1", "Another view of topic one.", null));
    edits.add(edit("e3", "A2", "Topic two implies this.", null));
    edits.add(edit("e4", "A2", null, "HTTP 500 from the server"));
    edits.add(edit("e5", "A2", "  \n\t ", null));
    edits.add(edit("e6", "A3", "Topic three --- and more.", null));
    edits.add(edit("e7", "A3", null, null));
    edits.add(edit("e8", "A4", "Topic four.", null));
    edits.add(edit("e8", "A4", "Topic four.", null));
    edits.add(edit("e9", "A5", "Topic five.", null));
    edits.add(edit("e10", "A-missing", "About nothing we know.", null));
    edits.add(edit("e11", "A6", "Implications without questions.", null));
    write(spark.createDataFrame(edits, Tables.SELF_EDITS_SCHEMA), run, Tables.SELF_EDITS);
  }

  static Row edit(String id, String article, String completion, String error) {
    Row sampling = RowFactory.create(1.0, 0.95, -1, 8192, 42L, 0);
    return RowFactory.create(
        id,
        article,
        "implications",
        "prompt of " + article,
        completion,
        "teacher",
        sampling,
        error == null ? "stop" : null,
        error);
  }

  static void write(org.apache.spark.sql.Dataset<Row> df, Path run, String table)
      throws IOException {
    df.coalesce(1).write().parquet(run.resolve(table).toString());
    Manifest m =
        Manifest.start("test", table, "cfg", "test", "fp-" + table).finish(Manifest.COMPLETED);
    Files.writeString(run.resolve(table).resolve("_manifest.json"), m.toJson());
  }

  record Ran(StageOutcome outcome, String out) {}

  static StageContext context(Path run, ByteArrayOutputStream out, String... sets) {
    TestSpark.session();
    CommonOptions o = new CommonOptions();
    o.runDir = run.toString();
    o.sets = new ArrayList<>(Arrays.asList(sets));
    Launch launch =
        Launch.of("score", o, Map.of(), new PrintStream(out, true, StandardCharsets.UTF_8));
    return launch.context();
  }

  static Ran run(Path run, EditScorerFactory f, String... sets) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    StageOutcome outcome = StageRunner.of(context(run, out, sets)).run(new ScoreJob(f));
    return new Ran(outcome, out.toString(StandardCharsets.UTF_8));
  }

  static Manifest manifest(Path run) throws IOException {
    return Manifest.parse(
        Files.readString(run.resolve(Tables.TTT_SCORES).resolve("_manifest.json")));
  }

  static List<Row> table(Path run) {
    return TestSpark.session()
        .read()
        .parquet(run.resolve(Tables.TTT_SCORES).toString())
        .collectAsList();
  }

  static List<Path> parts(Path run) throws IOException {
    Path score = run.resolve("_work/score");
    if (!Files.exists(score)) {
      return List.of();
    }
    try (Stream<Path> s = Files.walk(score, 2)) {
      return s.filter(p -> p.getFileName().toString().startsWith("part-") && Files.isDirectory(p))
          .toList();
    }
  }

  @Test
  void groupsJoinsAndCountsAndOneScorerPerJvm() throws Exception {
    Path run = dir.resolve("run");
    writeInputs(run);
    String tag = "stage-" + System.nanoTime();
    FakeScorerFactory f = new FakeScorerFactory(tag, 2, 42);

    Ran r =
        run(
            run,
            f,
            "ttt.eval-times=2",
            "ttt.commit-every=2",
            "judge.kind=token-recall",
            "ttt.lora.rank=32");
    assertEquals(0, r.outcome().exitCode(), r.out());
    Manifest m = manifest(run);
    assertEquals(Manifest.COMPLETED, m.status());
    assertEquals(12, m.count("input"));
    assertEquals(6, m.count("accepted"));
    assertEquals(5, m.count("rejected"));
    assertEquals(1, m.count("duplicates"));
    assertEquals(
        m.count("input"), m.count("accepted") + m.count("rejected") + m.count("duplicates"));
    assertEquals(6, m.count("edits_scored"));
    assertEquals(2, m.count("repeats"));
    assertEquals(12, m.count("output"));
    assertEquals(5, m.count("articles"));
    assertEquals(3, m.count("batches"), "5 articles in batches of 2");
    assertEquals(
        Map.of(
            "generation error",
            1,
            "blank completion",
            2,
            "unknown article",
            1,
            "article has no questions",
            1),
        m.get("rejects_by_reason"));
    @SuppressWarnings("unchecked")
    Map<String, List<String>> samples = (Map<String, List<String>>) m.get("reject_samples");
    assertEquals(List.of("e5", "e7"), samples.get("blank completion"));
    assertEquals(List.of("e10"), samples.get("unknown article"));
    List<JsonNode> rejects = new ArrayList<>();
    try (Stream<Path> files = Files.list(run.resolve("ttt_scores/_rejects"))) {
      for (Path file : files.filter(p -> p.getFileName().toString().endsWith(".json")).toList()) {
        for (String line : Files.readAllLines(file)) {
          rejects.add(Json.MAPPER.readTree(line));
        }
      }
    }
    assertEquals(5, rejects.size());
    assertTrue(
        rejects.stream()
            .anyMatch(
                x ->
                    x.get("reason").asText().equals("generation error")
                        && x.get("record").asText().contains("\"edit_id\":\"e4\"")
                        && x.get("record").asText().contains("HTTP 500")));

    List<Row> rows = table(run);
    List<String> keys = rows.stream().map(x -> x.getString(0) + "#" + x.getInt(2)).toList();
    assertEquals(
        List.of(
            "e1#0", "e1#1", "e2#0", "e2#1", "e3#0", "e3#1", "e6#0", "e6#1", "e8#0", "e8#1", "e9#0",
            "e9#1"),
        keys,
        "one row per accepted edit and repeat, sorted by edit_id, repeat");
    Row e1 = rows.get(0);
    assertEquals("A1", e1.getString(1));
    assertEquals(3, e1.getList(e1.fieldIndex("questions")).size());
    assertEquals(
        3, e1.getInt(e1.fieldIndex("train_sequences")), "two numbered lines + the passage");
    Row lora = e1.getStruct(e1.fieldIndex("lora"));
    assertEquals(32, lora.getInt(0));
    assertEquals(List.of("q_proj", "v_proj"), lora.getList(3));
    assertEquals(42L, lora.getLong(6));
    double meanBase = rows.stream().mapToDouble(x -> x.getDouble(3)).average().orElseThrow();
    assertEquals(meanBase, ((Number) m.get("mean_baseline_accuracy")).doubleValue(), 1e-12);

    assertEquals(
        1, FakeScorerFactory.creates(tag), "one scorer for 3 batch jobs and 5 tasks in this JVM");
    assertEquals(
        Map.of("A1", 1, "A2", 1, "A3", 1, "A4", 1, "A5", 1),
        FakeScorerFactory.calls(tag),
        "each article's edits scored together, once; rejected edits never reach the scorer");
    assertEquals(
        List.of("cpu"), FakeScorerFactory.DEVICES.get(tag), "no GPU assigned in local mode");
    assertEquals(List.of("executor=driver assigned=none device=cpu used=cpu"), m.get("devices"));
    assertTrue(parts(run).isEmpty(), "the work directory is cleaned");
    assertTrue(r.out().contains("ttt_scores completed: 12 rows"), r.out());

    Ran again =
        run(
            run,
            f,
            "ttt.eval-times=2",
            "ttt.commit-every=3",
            "judge.kind=token-recall",
            "ttt.lora.rank=32");
    assertTrue(
        again.out().contains("ttt_scores skipped: up-to-date"),
        "commit-every is not in the hash: " + again.out());
    assertEquals(Manifest.SKIPPED, manifest(run).status());
    assertEquals(
        5,
        FakeScorerFactory.calls(tag).values().stream().mapToInt(Integer::intValue).sum(),
        "nothing rescored");

    Ran changed =
        run(run, new FakeScorerFactory(tag, 1, 42), "ttt.eval-times=1", "judge.kind=token-recall");
    assertTrue(
        changed.out().contains("ttt_scores completed: 6 rows"),
        "a config change invalidates: " + changed.out());
  }

  @Test
  void aKilledRunResumesWithoutRescoringAndEndsWithTheUninterruptedTable() throws Exception {
    Path full = dir.resolve("full");
    writeInputs(full);
    String fullTag = "full-" + System.nanoTime();
    assertEquals(
        0,
        run(
                full,
                new FakeScorerFactory(fullTag, 3, 7),
                "ttt.eval-times=3",
                "ttt.seed=7",
                "ttt.commit-every=1")
            .outcome()
            .exitCode());
    List<Row> expected = table(full);
    assertEquals(18, expected.size());

    Path killed = dir.resolve("killed");
    writeInputs(killed);
    String tag = "kill-" + System.nanoTime();
    FakeScorerFactory f = new FakeScorerFactory(tag, 3, 7);
    FakeScorerFactory.failAfter(tag, 2);
    Exception e =
        assertThrows(
            Exception.class,
            () -> run(killed, f, "ttt.eval-times=3", "ttt.seed=7", "ttt.commit-every=1"));
    assertTrue(e.getMessage().contains("rerun to resume"), e.getMessage());
    assertFalse(Files.exists(killed.resolve(Tables.TTT_SCORES)), "no table from a killed run");
    List<Path> committed = parts(killed);
    assertEquals(
        2,
        committed.size(),
        "the two articles scored before the kill were committed: " + committed);
    Set<String> done = new TreeSet<>();
    for (Row x :
        TestSpark.session()
            .read()
            .parquet(committed.stream().map(Path::toString).toArray(String[]::new))
            .select("article_id")
            .distinct()
            .collectAsList()) {
      done.add(x.getString(0));
    }
    assertEquals(2, done.size());
    for (Path p : committed) {
      assertTrue(Files.exists(p.resolve("_COMMITTED")), p.toString());
    }
    Map<String, Integer> before = FakeScorerFactory.calls(tag);
    // What a kill leaves besides committed parts: a temporary directory and a half-renamed part
    // (no _COMMITTED marker); both are discarded, never read.
    Path work = committed.get(0).getParent();
    Files.createDirectories(work.resolve("_tmp-leftover"));
    Path halfRenamed = Files.createDirectories(work.resolve("part-halfrenamed"));
    Files.copy(
        Files.list(committed.get(0))
            .filter(p -> p.toString().endsWith(".parquet"))
            .findFirst()
            .orElseThrow(),
        halfRenamed.resolve("part-00000.parquet"));

    FakeScorerFactory.neverFail(tag);
    Ran resumed = run(killed, f, "ttt.eval-times=3", "ttt.seed=7", "ttt.commit-every=2");
    assertEquals(0, resumed.outcome().exitCode(), resumed.out());
    assertTrue(resumed.out().contains("resuming: 2 of 5 articles already scored"), resumed.out());
    Map<String, Integer> after = FakeScorerFactory.calls(tag);
    Set<String> rescored = new HashSet<>();
    for (String a : after.keySet()) {
      if (after.get(a) - before.getOrDefault(a, 0) > 0) {
        rescored.add(a);
        assertEquals(1, after.get(a) - before.getOrDefault(a, 0), a + " scored once on the rerun");
      }
    }
    Set<String> all = Set.of("A1", "A2", "A3", "A4", "A5");
    Set<String> pending = new HashSet<>(all);
    pending.removeAll(done);
    assertEquals(
        pending, rescored, "the rerun scored exactly the articles without a committed part");
    assertEquals(
        1, FakeScorerFactory.creates(tag), "the scorer of this JVM was reused by the rerun");

    List<Row> actual = table(killed);
    assertEquals(expected, actual, "same rows, same order, nothing missing, no duplicates");
    Manifest m = manifest(killed);
    assertEquals(2, m.count("resumed_articles"));
    assertEquals(18, m.count("output"));
    assertTrue(parts(killed).isEmpty());
  }

  @Test
  void aPartWithoutItsCommittedMarkerIsDiscardedAndItsArticlesRescoredWhileACommittedPartIsKept()
      throws Exception {
    Path run = dir.resolve("unmarked");
    writeInputs(run);
    String tag = "unmarked-" + System.nanoTime();
    FakeScorerFactory f = new FakeScorerFactory(tag, 1, 5);
    FakeScorerFactory.failAfter(tag, 2);
    assertThrows(
        Exception.class, () -> run(run, f, "ttt.eval-times=1", "ttt.seed=5", "ttt.commit-every=1"));
    List<Path> committed = parts(run).stream().sorted().toList();
    assertEquals(2, committed.size(), committed.toString());
    // A kill between the rename and the marker (on S3A the rename is a copy) leaves a
    // complete-looking
    // part without _COMMITTED: it must not count as scored.
    Path unmarked = committed.get(0);
    Path kept = committed.get(1);
    Files.delete(unmarked.resolve("_COMMITTED"));
    String unmarkedArticle =
        TestSpark.session()
            .read()
            .parquet(unmarked.toString())
            .select("article_id")
            .first()
            .getString(0);
    String keptArticle =
        TestSpark.session()
            .read()
            .parquet(kept.toString())
            .select("article_id")
            .first()
            .getString(0);
    Map<String, Integer> before = FakeScorerFactory.calls(tag);

    FakeScorerFactory.neverFail(tag);
    Ran resumed = run(run, f, "ttt.eval-times=1", "ttt.seed=5", "ttt.commit-every=1");
    assertEquals(0, resumed.outcome().exitCode(), resumed.out());
    assertTrue(resumed.out().contains("resuming: 1 of 5 articles already scored"), resumed.out());
    Manifest m = manifest(run);
    assertEquals(1, m.count("resumed_articles"), "only the committed part is kept");
    assertEquals(6, m.count("output"));
    assertEquals(4, m.count("batches"), "the unmarked part's article and the three never scored");
    Map<String, Integer> after = FakeScorerFactory.calls(tag);
    assertEquals(
        before.get(unmarkedArticle) + 1,
        after.get(unmarkedArticle),
        "the unmarked part's article is rescored");
    assertEquals(
        before.get(keptArticle), after.get(keptArticle), "the committed part's article is not");
    assertTrue(parts(run).isEmpty(), "the work directory is cleaned after the commit");
  }

  @Test
  void noUsableEditGivesAnEmptyTableWithAWarning() throws Exception {
    Path run = dir.resolve("run");
    SparkSession spark = TestSpark.session();
    write(
        spark.createDataFrame(
            List.of(
                RowFactory.create(
                    "A1",
                    "T",
                    "C.",
                    Rows.seq(List.of(RowFactory.create("q", "Q?", Rows.seq(List.of("a"))))))),
            Tables.ARTICLES_SCHEMA),
        run,
        Tables.ARTICLES);
    write(
        spark.createDataFrame(List.of(edit("e1", "A1", null, "timeout")), Tables.SELF_EDITS_SCHEMA),
        run,
        Tables.SELF_EDITS);
    String tag = "empty-" + System.nanoTime();
    // Every edit unusable is over any threshold but 1 (see tooManyUnusableEdits… below).
    Ran r =
        run(run, new FakeScorerFactory(tag, 1, 1), "ttt.eval-times=1", "ttt.max-error-fraction=1");
    assertEquals(0, r.outcome().exitCode(), r.out());
    Manifest m = manifest(run);
    assertEquals(Manifest.COMPLETED, m.status());
    assertEquals(0, m.count("output"));
    assertEquals(1, m.count("rejected"));
    assertTrue(String.valueOf(m.get("warning")).contains("nothing was scored"));
    assertEquals(0, table(run).size());
    assertEquals(
        0, FakeScorerFactory.creates(tag), "no model is loaded when there is nothing to score");
  }

  @Test
  void tooManyUnusableEditsFailBeforeAnyAdapterIsTrained() throws Exception {
    Path run = dir.resolve("run");
    writeInputs(run);
    String tag = "threshold-" + System.nanoTime();
    // 5 of the 12 self-edits cannot be scored: 41.7% > 40%.
    Ran r =
        run(
            run,
            new FakeScorerFactory(tag, 1, 1),
            "ttt.eval-times=1",
            "ttt.max-error-fraction=0.4");
    assertEquals(3, r.outcome().exitCode(), r.out());
    Manifest m = manifest(run);
    assertEquals(Manifest.FAILED, m.status());
    String failure = String.valueOf(m.get("failure"));
    assertTrue(
        failure.startsWith(
            "score: ttt_scores: 5 of 12 self-edits cannot be scored (41.7% > editforge.ttt.max-error-fraction = 40.0%)"),
        failure);
    assertTrue(r.outcome().message().contains("editforge.ttt.max-error-fraction"), r.out());
    assertEquals(5, m.count("rejected"));
    assertEquals(
        m.count("input"), m.count("accepted") + m.count("rejected") + m.count("duplicates"));
    assertEquals(0, table(run).size());
    assertEquals(0, FakeScorerFactory.creates(tag), "no adapter is trained once it has failed");
    try (Stream<Path> files = Files.list(run.resolve("ttt_scores/_rejects"))) {
      assertTrue(
          files.anyMatch(p -> p.toString().endsWith(".json")),
          "the rejects say which edits and why");
    }

    // Under the default threshold (0.5) the same inputs complete: groupsJoinsAndCounts… above.
  }

  @Test
  void forceDiscardsCommittedParts() throws Exception {
    Path run = dir.resolve("run");
    writeInputs(run);
    String tag = "force-" + System.nanoTime();
    FakeScorerFactory f = new FakeScorerFactory(tag, 1, 42);
    FakeScorerFactory.failAfter(tag, 1);
    assertThrows(Exception.class, () -> run(run, f, "ttt.eval-times=1", "ttt.commit-every=1"));
    assertEquals(1, parts(run).size());
    FakeScorerFactory.neverFail(tag);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    CommonOptions o = new CommonOptions();
    o.runDir = run.toString();
    o.force = true;
    o.sets = new ArrayList<>(List.of("ttt.eval-times=1", "ttt.commit-every=1"));
    StageOutcome outcome =
        StageRunner.of(
                Launch.of("score", o, Map.of(), new PrintStream(out, true, StandardCharsets.UTF_8))
                    .context())
            .run(new ScoreJob(f));
    assertEquals(0, outcome.exitCode());
    assertEquals(0, manifest(run).count("resumed_articles"), out.toString(StandardCharsets.UTF_8));
  }

  @Test
  void flagsMapToSettingsAndTheCommandIsRegistered() throws Exception {
    ScoreCommand c = new ScoreCommand();
    new CommandLine(c)
        .parseArgs(
            "--model",
            "/models/tiny",
            "--judge",
            "f1",
            "--endpoint",
            "http://127.0.0.1:9/v1",
            "--eval-times",
            "5",
            "--seed",
            "9");
    assertEquals(
        Map.of(
            "ttt.model",
            "/models/tiny",
            "judge.kind",
            "f1",
            "remote.endpoint",
            "http://127.0.0.1:9/v1",
            "ttt.eval-times",
            5,
            "ttt.seed",
            9L),
        new HashMap<>(c.flagOverrides()));
    assertTrue(Pipeline.stages().stream().anyMatch(s -> s.name().equals(ScoreJob.STAGE)));

    CliRun bad = CliRun.of("score", "--run-dir", dir.resolve("r").toString(), "--eval-times", "0");
    assertEquals(2, bad.exitCode(), bad.toString());
    assertTrue(bad.err().contains("editforge.ttt.eval-times"), bad.err());
    CliRun nothing = CliRun.of("score", "--run-dir", dir.resolve("r").toString(), "--model", "/m");
    // Run on its own, a stage with nothing to read fails loudly (a scheduler must not go green).
    assertEquals(2, nothing.exitCode(), nothing.toString());
    assertTrue(nothing.out().contains("no self_edits table"), nothing.out());
  }

  @Test
  void devicesFollowTheSettingAndTheTasksAssignment() {
    assertEquals("cpu", ScoreDevice.resolve("auto", List.of()).name());
    assertEquals("gpu:3", ScoreDevice.resolve("auto", List.of("3", "4")).name());
    assertEquals("cpu", ScoreDevice.resolve("cpu", List.of("3")).name());
    assertEquals("gpu:1", ScoreDevice.resolve("gpu:1", List.of()).name());
    assertEquals("gpu:2", ScoreDevice.resolve("gpu", List.of("2")).name());
    assertThrows(IllegalStateException.class, () -> ScoreDevice.resolve("gpu", List.of()));
  }
}
