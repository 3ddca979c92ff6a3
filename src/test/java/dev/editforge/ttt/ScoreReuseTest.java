package dev.editforge.ttt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.TestSpark;
import dev.editforge.cli.CommonOptions;
import dev.editforge.cli.Launch;
import dev.editforge.io.Manifest;
import dev.editforge.io.Rows;
import dev.editforge.io.Tables;
import dev.editforge.judge.Judge;
import dev.editforge.judge.LocalJudges;
import dev.editforge.spark.StageOutcome;
import dev.editforge.spark.StageRunner;
import dev.editforge.text.AnswerPrompt;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Row-level reuse in score (issue 18): a rerun on changed inputs trains only new or changed edits,
 * re-judges stored answers when only the judge changed, and ends with the table a from-scratch run
 * writes. The fake scorer's per-edit call count stands for the trainer's.
 */
class ScoreReuseTest {
  @TempDir Path dir;

  /** Article {@code A<i>}: 3 questions; edits {@code e<i>a}, {@code e<i>b}. */
  static Row article(int i) {
    List<Row> qs = new ArrayList<>();
    for (int q = 1; q <= 3; q++) {
      qs.add(
          RowFactory.create(
              "q" + i + q,
              "Question " + q + " about topic " + i + "?",
              Rows.seq(List.of("answer " + i + q))));
    }
    return RowFactory.create("A" + i, "Topic " + i, "Context of topic " + i + ".", Rows.seq(qs));
  }

  static void writeInputs(Path run, List<Row> articles, List<Row> edits, int version)
      throws IOException {
    SparkSession spark = TestSpark.session();
    write(spark.createDataFrame(articles, Tables.ARTICLES_SCHEMA), run, Tables.ARTICLES, version);
    write(spark.createDataFrame(edits, Tables.SELF_EDITS_SCHEMA), run, Tables.SELF_EDITS, version);
  }

  static void write(org.apache.spark.sql.Dataset<Row> df, Path run, String table, int version)
      throws IOException {
    Path t = run.resolve(table);
    if (Files.exists(t)) {
      try (Stream<Path> s = Files.walk(t)) {
        for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
          Files.delete(p);
        }
      }
    }
    df.coalesce(1).write().parquet(t.toString());
    Manifest m =
        Manifest.start("test", table, "cfg", "test", "fp-" + table + "-" + version)
            .finish(Manifest.COMPLETED);
    Files.writeString(t.resolve("_manifest.json"), m.toJson());
  }

  static List<Row> edits(int... articles) {
    List<Row> out = new ArrayList<>();
    for (int i : articles) {
      out.add(ScoreJobTest.edit("e" + i + "a", "A" + i, "1. One about " + i + ".\n2. Two.", null));
      out.add(ScoreJobTest.edit("e" + i + "b", "A" + i, "Another view of topic " + i + ".", null));
    }
    return out;
  }

  static List<Row> articles(int... ids) {
    List<Row> out = new ArrayList<>();
    for (int i : ids) {
      out.add(article(i));
    }
    return out;
  }

  static StageOutcome run(Path run, EditScorerFactory f, boolean force, String... sets)
      throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    CommonOptions o = new CommonOptions();
    o.runDir = run.toString();
    o.force = force;
    o.sets = new ArrayList<>(List.of(sets));
    StageOutcome outcome =
        StageRunner.of(
                Launch.of("score", o, Map.of(), new PrintStream(out, true, StandardCharsets.UTF_8))
                    .context())
            .run(new ScoreJob(f));
    assertEquals(0, outcome.exitCode(), out.toString(StandardCharsets.UTF_8));
    return outcome;
  }

  static Manifest manifest(Path run) throws IOException {
    return ScoreJobTest.manifest(run);
  }

  /** The table, with the timing column left out where a test compares runs. */
  static List<Row> table(Path run) {
    return ScoreJobTest.table(run);
  }

  @Test
  void aNewArticleTrainsOnlyItsEditsAndTheTableEqualsAFromScratchRun() throws Exception {
    Path run = dir.resolve("run");
    String tag = "reuse-" + System.nanoTime();
    FakeScorerFactory f = new FakeScorerFactory(tag, 2, 3);
    writeInputs(run, articles(1, 2, 3), edits(1, 2, 3), 1);
    run(run, f, false, "ttt.eval-times=2", "ttt.seed=3", "ttt.commit-every=2");
    assertEquals(12, FakeScorerFactory.trainedTotal(tag), "3 articles x 2 edits x 2 repeats");
    Manifest first = manifest(run);
    assertEquals(0, first.count("reused"));
    assertEquals(12, first.count("computed"));

    writeInputs(run, articles(1, 2, 3, 4), edits(1, 2, 3, 4), 2);
    Map<String, Integer> before = FakeScorerFactory.trained(tag);
    run(run, f, false, "ttt.eval-times=2", "ttt.seed=3", "ttt.commit-every=2");
    Map<String, Integer> after = FakeScorerFactory.trained(tag);
    Map<String, Integer> trainedNow = new TreeMap<>();
    after.forEach(
        (e, n) -> {
          if (n - before.getOrDefault(e, 0) > 0) {
            trainedNow.put(e, n - before.getOrDefault(e, 0));
          }
        });
    assertEquals(
        Map.of("e4a", 2, "e4b", 2), trainedNow, "only the new article's edits, once per repeat");
    assertEquals(
        Map.of(), FakeScorerFactory.givenBaselines(tag), "a new article has no stored baseline");
    Manifest m = manifest(run);
    assertEquals(12, m.count("reused"), m.toJson());
    assertEquals(4, m.count("computed"));
    assertEquals(0, m.count("removed"));
    assertEquals(0, m.count("rejudged"));
    assertEquals(16, m.count("output"));

    Path scratch = dir.resolve("scratch");
    writeInputs(scratch, articles(1, 2, 3, 4), edits(1, 2, 3, 4), 1);
    String scratchTag = "scratch-" + System.nanoTime();
    run(
        scratch,
        new FakeScorerFactory(scratchTag, 2, 3),
        false,
        "ttt.eval-times=2",
        "ttt.seed=3",
        "ttt.commit-every=3");
    assertEquals(16, FakeScorerFactory.trainedTotal(scratchTag));
    assertEquals(table(scratch), table(run), "row for row, in the same order");

    // One article removed, one edit changed: the change is trained with the article's stored
    // baseline answers (its questions did not change), the removed rows disappear.
    List<Row> changed = new ArrayList<>(edits(2, 3, 4));
    changed.set(0, ScoreJobTest.edit("e2a", "A2", "A different first edit of topic 2.", null));
    writeInputs(run, articles(2, 3, 4), changed, 3);
    int trainedBefore = FakeScorerFactory.trainedTotal(tag);
    run(run, f, false, "ttt.eval-times=2", "ttt.seed=3", "ttt.commit-every=2");
    assertEquals(2, FakeScorerFactory.trainedTotal(tag) - trainedBefore, "e2a's two repeats");
    assertEquals(Map.of("A2", 1), FakeScorerFactory.givenBaselines(tag));
    m = manifest(run);
    assertEquals(10, m.count("reused"));
    assertEquals(2, m.count("computed"));
    assertEquals(4, m.count("removed"), "A1's 2 edits x 2 repeats");
    assertEquals(1, m.count("reused_baselines"));

    Path scratch2 = dir.resolve("scratch2");
    writeInputs(scratch2, articles(2, 3, 4), changed, 1);
    run(
        scratch2,
        new FakeScorerFactory("scratch2-" + System.nanoTime(), 2, 3),
        false,
        "ttt.eval-times=2",
        "ttt.seed=3");
    assertEquals(table(scratch2), table(run));
  }

  @Test
  void aChangedJudgeRejudgesStoredAnswersWithoutTrainingAnAdapter() throws Exception {
    Path run = dir.resolve("judge");
    String tag = "judge-" + System.nanoTime();
    writeInputs(run, articles(1, 2, 3), edits(1, 2, 3), 1);
    run(
        run,
        new FakeScorerFactory(tag, 2, 5, "contains"),
        false,
        "ttt.eval-times=2",
        "ttt.seed=5",
        "judge.kind=contains");
    List<Row> before = table(run);
    int trained = FakeScorerFactory.trainedTotal(tag);
    assertEquals(12, trained);

    run(
        run,
        new FakeScorerFactory(tag, 2, 5, "token-recall"),
        false,
        "ttt.eval-times=2",
        "ttt.seed=5",
        "judge.kind=token-recall");
    assertEquals(trained, FakeScorerFactory.trainedTotal(tag), "no adapter is trained");
    Manifest m = manifest(run);
    assertEquals(12, m.count("rejudged"), m.toJson());
    assertEquals(12, m.count("reused"));
    assertEquals(0, m.count("computed"));

    Judge recall = LocalJudges.tokenRecall(0.75);
    List<Row> after = table(run);
    assertEquals(before.size(), after.size());
    int changedRows = 0;
    for (int i = 0; i < after.size(); i++) {
      Row a = after.get(i);
      Row b = before.get(i);
      assertEquals(b.getString(0), a.getString(0));
      int article = Integer.parseInt(a.getString(1).substring(1));
      List<Row> qs = a.getList(a.fieldIndex("questions"));
      List<Row> oldQs = b.getList(b.fieldIndex("questions"));
      int baseRight = 0;
      int right = 0;
      for (int q = 0; q < qs.size(); q++) {
        Row x = qs.get(q);
        assertEquals(oldQs.get(q).getString(2), x.getString(2), "the stored answers stay");
        assertEquals(oldQs.get(q).getString(3), x.getString(3));
        String field = AnswerPrompt.questionField("Topic " + article, x.getString(0));
        List<String> golds = List.of("answer " + article + (q + 1));
        boolean base = recall.correct(field, golds, x.getString(2));
        boolean adapted = recall.correct(field, golds, x.getString(3));
        assertEquals(base, x.getBoolean(4), x.toString());
        assertEquals(adapted, x.getBoolean(5), x.toString());
        baseRight += base ? 1 : 0;
        right += adapted ? 1 : 0;
      }
      assertEquals(baseRight / 3.0, a.getDouble(3), 1e-12);
      assertEquals(right / 3.0, a.getDouble(4), 1e-12);
      assertEquals((right - baseRight) / 3.0, a.getDouble(5), 1e-12);
      if (a.getDouble(4) != b.getDouble(4)) {
        changedRows++;
      }
    }
    assertNotEquals(0, changedRows, "token-recall accepts the capitalised golds contains refused");

    // The same table a token-recall run from scratch writes.
    Path scratch = dir.resolve("judge-scratch");
    writeInputs(scratch, articles(1, 2, 3), edits(1, 2, 3), 1);
    run(
        scratch,
        new FakeScorerFactory("judge-scratch-" + System.nanoTime(), 2, 5, "token-recall"),
        false,
        "ttt.eval-times=2",
        "ttt.seed=5",
        "judge.kind=token-recall");
    assertEquals(table(scratch), after);
    assertTrue(Files.exists(run.resolve(Tables.TTT_SCORES).resolve(ScoreReuse.KEYS)));

    // --force: nothing is reused, every adapter is trained again, to the same table.
    run(
        run,
        new FakeScorerFactory(tag, 2, 5, "token-recall"),
        true,
        "ttt.eval-times=2",
        "ttt.seed=5",
        "judge.kind=token-recall");
    assertEquals(trained + 12, FakeScorerFactory.trainedTotal(tag));
    assertEquals(0, manifest(run).count("reused"));
    assertEquals(12, manifest(run).count("computed"));
    assertEquals(after, table(run));
  }
}
