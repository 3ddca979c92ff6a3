package dev.editforge.ttt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.CliRun;
import dev.editforge.TestSpark;
import dev.editforge.config.SelfEditSettings;
import dev.editforge.io.Manifest;
import dev.editforge.io.Rows;
import dev.editforge.io.Tables;
import dev.editforge.io.UnusableInputException;
import dev.editforge.llm.TinyModels;
import dev.editforge.spark.StageContext;
import dev.editforge.spark.StageOutcome;
import dev.editforge.spark.StageRunner;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * SEAL's evaluation protocol on three tiny held-out articles, with the deterministic fake scorer
 * (which records the train sequences each adapter got) and a fake edit writer.
 */
class SealEvaluationJobTest {
  @TempDir Path dir;

  /** Records which model wrote edits for which articles; the edits name their author. */
  static final class FakeWriter implements SealEvaluationJob.EditWriter {
    private static final long serialVersionUID = 1L;
    static final Map<String, List<String>> ASKED = new ConcurrentHashMap<>();
    private final String tag;

    FakeWriter(String tag) {
      this.tag = tag;
      ASKED.put(tag, java.util.Collections.synchronizedList(new ArrayList<>()));
    }

    @Override
    public List<List<String>> write(
        StageContext ctx, String model, List<ArticleWork> articles, SelfEditSettings s) {
      List<List<String>> out = new ArrayList<>();
      for (ArticleWork a : articles) {
        ASKED.get(tag).add(model + ":" + a.articleId());
        List<String> edits = new ArrayList<>();
        for (int i = 0; i < s.k(); i++) {
          edits.add("1. " + model + " says " + a.title() + " #" + i + "\n2. and more " + i);
        }
        out.add(edits);
      }
      return out;
    }
  }

  static void writeArticles(Path run, boolean withEmpty) throws Exception {
    SparkSession spark = TestSpark.session();
    List<Row> articles = new ArrayList<>();
    for (int i = 1; i <= 3; i++) {
      List<Row> qs = new ArrayList<>();
      for (int q = 1; q <= 4; q++) {
        qs.add(
            RowFactory.create(
                "q" + i + q,
                "Question " + q + " about " + i + "?",
                Rows.seq(List.of("a" + i + q))));
      }
      articles.add(
          RowFactory.create(
              "A" + i, "Topic " + i, "  Context of topic " + i + ".\n", Rows.seq(qs)));
    }
    if (withEmpty) {
      articles.add(RowFactory.create("A9", "Topic 9", "Nothing asked.", Rows.seq(List.of())));
    }
    ScoreJobTest.write(
        spark.createDataFrame(articles, Tables.ARTICLES_SCHEMA), run, Tables.ARTICLES);
    // the run's self-edits cover A1 only (3 usable, k = 2 keeps the first two by edit_id)
    List<Row> edits = new ArrayList<>();
    edits.add(ScoreJobTest.edit("e1", "A1", "Run edit one of topic 1.", null));
    edits.add(ScoreJobTest.edit("e2", "A1", "Run edit two of topic 1.", null));
    edits.add(ScoreJobTest.edit("e3", "A1", "Run edit three of topic 1.", null));
    edits.add(ScoreJobTest.edit("e0", "A1", null, "HTTP 500"));
    ScoreJobTest.write(
        spark.createDataFrame(edits, Tables.SELF_EDITS_SCHEMA), run, Tables.SELF_EDITS);
  }

  record Ran(StageOutcome outcome, String out) {}

  static Ran run(Path run, String tag, String... sets) throws Exception {
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    StageOutcome o =
        StageRunner.of(ScoreJobTest.context(run, out, sets))
            .run(new SealEvaluationJob(new FakeScorerFactory(tag, 2, 11), new FakeWriter(tag)));
    return new Ran(o, out.toString(StandardCharsets.UTF_8));
  }

  static final String[] SETS = {
    "ttt.eval-times=2", "generate.self-edit.k=2", "evaluate.model=base-m", "judge.kind=token-recall"
  };

  @Test
  void oneRowPerArticleMeansOfRowsPassageOnlyTrainsOnThePassageAndARerunSkips() throws Exception {
    Path run = dir.resolve("run");
    writeArticles(run, false);
    String tag = "seal-main";
    List<String> sets = new ArrayList<>(List.of(SETS));
    sets.add("evaluate.policy=policy-m");
    Ran r = run(run, tag, sets.toArray(String[]::new));
    assertEquals(0, r.outcome().exitCode(), r.out() + r.outcome().message());

    List<Row> rows =
        TestSpark.session()
            .read()
            .parquet(run.resolve(Tables.EVALUATION_SEAL).toString())
            .orderBy("article_id")
            .collectAsList();
    assertEquals(3, rows.size());
    assertEquals(List.of("A1", "A2", "A3"), rows.stream().map(x -> x.getString(0)).toList());

    Manifest m =
        Manifest.parse(
            Files.readString(run.resolve(Tables.EVALUATION_SEAL).resolve("_manifest.json")));
    for (String c : List.of("no_training", "passage_only", "base_edits", "policy_edits")) {
      double mean =
          rows.stream().mapToDouble(x -> x.getDouble(x.fieldIndex(c))).average().orElseThrow();
      assertEquals(mean, ((Number) m.get(c)).doubleValue(), 1e-12, c);
    }
    for (Row x : rows) {
      assertEquals(4, x.getInt(x.fieldIndex("questions")));
      assertEquals(2, x.getInt(x.fieldIndex("base_edit_count")), "k = 2 base edits");
      assertEquals(2, x.getInt(x.fieldIndex("policy_edit_count")));
    }

    Map<String, List<String>> seqs = FakeScorerFactory.SEQUENCES.get(tag);
    String passage = "Topic 2\nContext of topic 2.";
    assertEquals(List.of(passage), seqs.get("A2/passage/0"), "passage only = the passage alone");
    List<String> base = seqs.get("A2/base/0");
    assertEquals(
        List.of("Topic 2\n1. base-m says Topic 2 #0", "Topic 2\n2. and more 0", passage),
        base,
        "an edit trains on its sequences with the passage appended");
    assertEquals(
        List.of("Topic 1\nRun edit one of topic 1.", "Topic 1\nContext of topic 1."),
        seqs.get("A1/base/0"),
        "A1's base edits come from the run's self_edits");
    assertEquals("Topic 1\nRun edit two of topic 1.", seqs.get("A1/base/1").get(0));
    assertTrue(seqs.get("A3/policy/1").get(0).contains("policy-m says Topic 3 #1"));
    assertEquals(
        List.of("base-m:A2", "base-m:A3", "policy-m:A1", "policy-m:A2", "policy-m:A3"),
        FakeWriter.ASKED.get(tag).stream().sorted().toList(),
        "the base model writes only what the run lacks; the policy writes every article's");
    assertEquals(
        Map.of("A1", 1, "A2", 1, "A3", 1),
        FakeScorerFactory.calls(tag),
        "one scorer call (task) per article");
    assertTrue(r.out().contains("Train on Passage"), r.out());
    assertTrue(r.out().contains("passage_only"), r.out());

    Ran again = run(run, tag, sets.toArray(String[]::new));
    assertEquals(0, again.outcome().exitCode());
    assertTrue(again.out().contains("skipped: up-to-date"), again.out());
    assertEquals(Map.of("A1", 1, "A2", 1, "A3", 1), FakeScorerFactory.calls(tag));
  }

  @Test
  void withoutAPolicyThePolicyColumnIsNull() throws Exception {
    Path run = dir.resolve("run");
    writeArticles(run, false);
    Ran r = run(run, "seal-nopolicy", SETS);
    assertEquals(0, r.outcome().exitCode(), r.out());
    List<Row> rows =
        TestSpark.session()
            .read()
            .parquet(run.resolve(Tables.EVALUATION_SEAL).toString())
            .collectAsList();
    assertEquals(3, rows.size());
    for (Row x : rows) {
      assertTrue(x.isNullAt(x.fieldIndex("policy_edits")));
      assertNotNull(x.get(x.fieldIndex("passage_only")));
    }
    Manifest m =
        Manifest.parse(
            Files.readString(run.resolve(Tables.EVALUATION_SEAL).resolve("_manifest.json")));
    assertNull(m.get("policy_edits"));
  }

  @Test
  void heldOutArticlesWithoutQuestionsExitTwoBeforeAnyWork() throws Exception {
    Path run = dir.resolve("run");
    writeArticles(run, true);
    String tag = "seal-bad";
    UnusableInputException e =
        assertThrows(UnusableInputException.class, () -> run(run, tag, SETS));
    assertTrue(
        e.getMessage().contains("have no questions") && e.getMessage().contains("A9"),
        e.getMessage());
    assertTrue(FakeScorerFactory.calls(tag).isEmpty());
    CliRun empty =
        CliRun.of(
            "evaluate", "--run-dir", run.toString(), "--protocol", "seal", "--model", "base-m");
    assertEquals(2, empty.exitCode(), empty.toString());
    assertTrue(empty.err().contains("A9"), empty.toString());

    CliRun bad = CliRun.of("evaluate", "--run-dir", run.toString(), "--protocol", "sael");
    assertEquals(2, bad.exitCode(), bad.toString());
    assertTrue(bad.err().contains("editforge.evaluate.protocol"), bad.err());
  }

  @Test
  void theLocalWriterWritesKEditsPerArticleWithATinyModel() throws Exception {
    Path model = TinyModels.qwen2(dir.resolve("m"), TinyModels.Size.TINY, 3);
    Path run = dir.resolve("run");
    writeArticles(run, false);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    StageContext ctx =
        ScoreJobTest.context(
            run, out, "generate.self-edit.k=2", "generate.self-edit.max-new-tokens=5");
    List<ArticleWork> held =
        SealEvaluationJob.heldOut(ctx, run.resolve(Tables.ARTICLES).toString(), 2);
    List<List<String>> edits =
        new SealEvaluationJob.LocalEditWriter()
            .write(ctx, model.toString(), held, ctx.settings().selfEdit());
    assertEquals(2, edits.size());
    assertEquals(2, edits.get(0).size());
    assertEquals(2, edits.get(1).size());
  }

  @Test
  void endToEndOnTheRealScorerAndWriterWithTinyRandomModels() throws Exception {
    Path base = TinyModels.qwen2(dir.resolve("base"), TinyModels.Size.TINY, 3);
    Path policy = TinyModels.qwen2(dir.resolve("policy"), TinyModels.Size.TINY, 4);
    Path run = dir.resolve("run");
    writeArticles(run, false);
    ByteArrayOutputStream out = new ByteArrayOutputStream();
    StageOutcome o =
        StageRunner.of(
                ScoreJobTest.context(
                    run,
                    out,
                    "evaluate.model=" + base,
                    "evaluate.policy=" + policy,
                    "evaluate.max-articles=2",
                    "generate.self-edit.k=1",
                    "generate.self-edit.max-new-tokens=6",
                    "ttt.eval-times=1",
                    "ttt.epochs=1",
                    "ttt.max-new-tokens=3",
                    "ttt.max-length=64",
                    "ttt.lora.rank=2",
                    "ttt.device=cpu",
                    "judge.kind=token-recall"))
            .run(new SealEvaluationJob());
    String log = out.toString(StandardCharsets.UTF_8);
    assertEquals(0, o.exitCode(), log + o.message());
    List<Row> rows =
        TestSpark.session()
            .read()
            .parquet(run.resolve(Tables.EVALUATION_SEAL).toString())
            .orderBy("article_id")
            .collectAsList();
    assertEquals(2, rows.size(), "max-articles = 2");
    for (Row x : rows) {
      assertEquals(1, x.getInt(x.fieldIndex("base_edit_count")));
      assertTrue(x.getInt(x.fieldIndex("policy_edit_count")) <= 1);
      for (String c : List.of("no_training", "passage_only", "base_edits")) {
        double v = x.getDouble(x.fieldIndex(c));
        assertTrue(v >= 0 && v <= 1, c + " = " + v);
      }
    }
    assertTrue(log.contains("Train on Passage + Synthetic (policy)"), log);
  }
}
