package dev.editforge.report;

import static org.apache.spark.sql.types.DataTypes.BooleanType;
import static org.apache.spark.sql.types.DataTypes.DoubleType;
import static org.apache.spark.sql.types.DataTypes.IntegerType;
import static org.apache.spark.sql.types.DataTypes.StringType;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.CliRun;
import dev.editforge.TestSpark;
import dev.editforge.io.Manifest;
import dev.editforge.io.RunDir;
import dev.editforge.io.Tables;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The reader on small runs written here (only the columns it reads), and the {@code report} command
 * on one of them.
 */
class RunReaderTest {
  @TempDir Path dir;

  static SparkSession spark() {
    return TestSpark.session();
  }

  static StructType schema(Object... nameType) {
    StructType t = new StructType();
    for (int i = 0; i < nameType.length; i += 2) {
      t = t.add((String) nameType[i], (org.apache.spark.sql.types.DataType) nameType[i + 1], true);
    }
    return t;
  }

  static void parquet(Path table, StructType schema, Row... rows) {
    spark().createDataFrame(List.of(rows), schema).coalesce(1).write().parquet(table.toString());
  }

  static void manifest(Path table, String stage, String started, Map<String, Long> counts)
      throws Exception {
    Files.createDirectories(table);
    Manifest m = Manifest.start(stage, table.getFileName().toString(), "h", "v", "f");
    counts.forEach(m::count);
    m.finish(Manifest.COMPLETED);
    m.put("started_at", started);
    Files.writeString(table.resolve(RunDir.MANIFEST), m.toJson());
  }

  static Map<String, Long> io(long in, long acc, long rej) {
    return Map.of(
        "input", in, "accepted", acc, "rejected", rej, "duplicates", in - acc - rej, "output", acc);
  }

  static RunReport read(Path run) {
    return new RunReader(
            spark(), new RunDir(run.toString(), spark().sparkContext().hadoopConfiguration()))
        .read();
  }

  static final StructType SCORES =
      schema(
          "edit_id", StringType,
          "article_id", StringType,
          "repeat", IntegerType,
          "baseline_accuracy", DoubleType,
          "adapter_accuracy", DoubleType,
          "adapter_gain", DoubleType);

  /** A single run: two articles, four edits in two prompt formats, rejects, loss, evaluation. */
  Path singleRun() throws Exception {
    Path run = dir.resolve("run");
    Path articles = run.resolve("articles");
    parquet(
        articles,
        schema("article_id", StringType, "title", StringType),
        RowFactory.create("a1", "Veltmoor"),
        RowFactory.create("a2", "Ossery River"));
    manifest(articles, "ingest", "2026-01-01T10:00:00Z", io(2, 2, 0));

    Path passages = run.resolve("passages");
    parquet(passages, schema("passage_id", StringType), RowFactory.create("p1"));
    manifest(passages, "ingest", "2026-01-01T10:00:01Z", io(4, 1, 3));
    spark()
        .createDataFrame(
            List.of(
                RowFactory.create("bad tsv", "p.tsv", 3L, "<script>alert(1)</script>"),
                RowFactory.create("bad tsv", "p.tsv", 9L, "x\ty"),
                RowFactory.create("empty text", "p.tsv", 5L, "4\t\tTitle")),
            Tables.REJECTS_SCHEMA)
        .coalesce(1)
        .write()
        .json(passages.resolve("_rejects").toString());

    Path edits = run.resolve("self_edits");
    parquet(
        edits,
        schema("edit_id", StringType, "article_id", StringType, "prompt_key", StringType),
        RowFactory.create("e1", "a1", "implications"),
        RowFactory.create("e2", "a1", "rewrite"),
        RowFactory.create("e3", "a2", "implications"),
        RowFactory.create("e4", "a2", "rewrite"));
    manifest(edits, "generate", "2026-01-01T10:01:00Z", io(4, 4, 0));

    Path scores = run.resolve("ttt_scores");
    parquet(
        scores,
        SCORES,
        // e1 twice: its gain is the mean over repeats, (0.5 + 0.25) / 2
        RowFactory.create("e1", "a1", 0, 0.25, 0.75, 0.5),
        RowFactory.create("e1", "a1", 1, 0.25, 0.5, 0.25),
        RowFactory.create("e2", "a1", 0, 0.25, 0.0, -0.25),
        RowFactory.create("e3", "a2", 0, 0.5, 0.5, 0.0));
    manifest(scores, "score", "2026-01-01T10:02:00Z", io(4, 3, 1));

    Path sft = run.resolve("sft");
    parquet(
        sft,
        schema("source", StringType, "origin_id", StringType),
        RowFactory.create("self_edit", "e1"),
        RowFactory.create("self_edit", "e3"),
        RowFactory.create("reasoning", "e2")); // a trace id that happens to equal an edit id
    Map<String, Long> sc = new java.util.HashMap<>(io(5, 3, 2));
    sc.putAll(
        Map.of(
            "self_edits",
            4L,
            "self_edit",
            2L,
            "reasoning",
            1L,
            "beyond_k",
            1L,
            "unscored",
            1L,
            "blank",
            0L));
    manifest(sft, "select", "2026-01-01T10:03:00Z", sc);

    Path ft = run.resolve("finetune");
    manifest(
        ft, "finetune", "2026-01-01T10:04:00Z", Map.of("input", 3L, "accepted", 3L, "steps", 2L));
    Files.writeString(
        ft.resolve("trainer_log.json"),
        "{\"initial_eval_loss\": 3.0, \"train_loss\": [[1, 2.5], [2, 2.0]],"
            + " \"eval_loss\": [[2, 2.2]], \"best_step\": 2}");

    Path eval = run.resolve("evaluation");
    manifest(eval, "evaluate", "2026-01-01T10:05:00Z", io(11, 11, 0));
    parquet(
        eval.resolve("articles"),
        schema(
            "article_id", StringType,
            "title", StringType,
            "questions", IntegerType,
            "base_accuracy", DoubleType,
            "tuned_accuracy", DoubleType),
        RowFactory.create("a2", "Ossery River", 5, 0.2, 0.4),
        RowFactory.create("a1", "Veltmoor", 6, 0.5, 0.5));
    String m = Files.readString(eval.resolve(RunDir.MANIFEST));
    Manifest em = Manifest.parse(m).put("base_accuracy", 0.3636).put("tuned_accuracy", 0.4545);
    Files.writeString(eval.resolve(RunDir.MANIFEST), em.toJson());

    Files.createDirectories(run.resolve("_runs"));
    Files.writeString(
        run.resolve("_runs/20260101T100000Z-run.json"),
        "{\"command\": \"run\", \"started_at\": \"2026-01-01T10:00:00Z\","
            + " \"ended_at\": \"2026-01-01T10:06:00Z\", \"exit_code\": 3}");
    return run;
  }

  @Test
  void readsEverySectionOfASingleRun() throws Exception {
    RunReport r = read(singleRun());
    assertEquals("", r.dataRun());
    assertEquals(
        List.of(
            "articles", "passages", "self_edits", "ttt_scores", "sft", "finetune", "evaluation"),
        r.tables().stream().map(RunReport.Table::table).toList(),
        "in start order");
    assertEquals(
        List.of(new RunReport.Command("run", "2026-01-01T10:00:00Z", "2026-01-01T10:06:00Z", 3)),
        r.commands());

    // rejects: the passages table's, grouped by reason, most frequent first, with examples
    assertEquals(1, r.rejects().size());
    RunReport.Rejects rej = r.rejects().get(0);
    assertEquals("passages", rej.table());
    assertEquals(3, rej.total());
    assertEquals("bad tsv", rej.reasons().get(0).reason());
    assertEquals(2, rej.reasons().get(0).count());
    assertEquals(
        List.of(3L, 9L),
        rej.reasons().get(0).examples().stream().map(RunReport.Example::line).toList());
    assertEquals("<script>alert(1)</script>", rej.reasons().get(0).examples().get(0).record());

    // ttt: one gain per edit (mean over repeats); per article means over its rows, with titles
    assertEquals(List.of(-0.25, 0.0, 0.375), r.ttt().editGains().stream().sorted().toList());
    RunReport.ArticleTtt ossery = r.ttt().articles().get(0);
    assertEquals("Ossery River", ossery.title(), "sorted by title");
    RunReport.ArticleTtt veltmoor = r.ttt().articles().get(1);
    assertEquals(2, veltmoor.edits());
    assertEquals(0.25, veltmoor.baseline(), 1e-9);
    assertEquals((0.75 + 0.5 + 0.0) / 3, veltmoor.adapter(), 1e-9);

    // selection: kept per prompt format through sft.origin_id, the reasoning row not counted
    RunReport.Selection s = r.selection();
    assertEquals(4, s.considered());
    assertEquals(2, s.kept());
    assertEquals(Map.of("beyond_k", 1L, "unscored", 1L), s.leftOut(), "zero counts left out");
    RunReport.PromptFormat impl = s.formats().get(0);
    assertEquals(new RunReport.PromptFormat("implications", 2, 2, (0.375 + 0.0) / 2, 2), impl);
    RunReport.PromptFormat rewrite = s.formats().get(1);
    assertEquals("rewrite", rewrite.promptKey());
    assertEquals(1, rewrite.scored(), "e4 was never scored");
    assertEquals(0, rewrite.kept());
    assertEquals(1L, s.rowsBySource().get("reasoning"));

    // finetune: eval starts at step 0 with the initial loss
    assertEquals(
        List.of(new RunReport.Point(0, 3.0), new RunReport.Point(2, 2.2)), r.finetune().evalLoss());
    assertEquals(2, r.finetune().trainLoss().size());
    assertEquals(2, r.finetune().bestStep());

    assertEquals(0.3636, r.evaluation().baseAccuracy(), 1e-9);
    assertEquals("Ossery River", r.evaluation().articles().get(0).title());
    assertEquals(0.4, r.evaluation().articles().get(0).tuned(), 1e-9);

    assertNull(r.sealEvaluation());
    assertNull(r.rounds());
    assertNull(r.continual());
    assertTrue(r.retrieval().isEmpty());
  }

  @Test
  void anIterateRunIsReadFromItsLatestRound() throws Exception {
    Path run = dir.resolve("iter");
    for (int round = 0; round < 2; round++) {
      Path scores = run.resolve("round-" + round).resolve("ttt_scores");
      double gain = round == 0 ? -0.5 : 0.5;
      parquet(scores, SCORES, RowFactory.create("e" + round, "a1", 0, 0.25, 0.25 + gain, gain));
      manifest(scores, "score", "2026-01-01T1" + round + ":00:00Z", io(1, 1, 0));
    }
    Path rounds = run.resolve("rounds");
    parquet(
        rounds,
        schema("round", IntegerType, "policy_model", StringType, "eval_accuracy", DoubleType),
        RowFactory.create(1, "round-0 merged", null),
        RowFactory.create(0, "base", 0.25));
    manifest(rounds, "iterate", "2026-01-01T12:00:00Z", io(2, 2, 0));
    Path continual = run.resolve("continual");
    StructType cs =
        schema(
            "sequence",
            IntegerType,
            "step",
            IntegerType,
            "column",
            IntegerType,
            "accuracy",
            DoubleType,
            "measured",
            BooleanType);
    // one sequence over 2 articles: step 0 measures both, step 1 only article 1
    parquet(
        continual,
        cs,
        RowFactory.create(0, 0, 0, 0.5, true),
        RowFactory.create(0, 0, 1, 0.25, true),
        RowFactory.create(0, 1, 0, 1.0, true),
        RowFactory.create(0, 1, 1, 0.0, false),
        RowFactory.create(0, 2, 0, 0.75, true),
        RowFactory.create(0, 2, 1, 0.5, true),
        RowFactory.create(1, 2, 1, 0.25, true));
    manifest(continual, "continual", "2026-01-01T13:00:00Z", io(2, 2, 0));
    RetrievalEvaluations.record(
        new RunDir(run.toString(), spark().sparkContext().hadoopConfiguration()),
        new RunReport.RetrievalEval(
            "q.jsonl",
            "2026-01-01T14:00:00Z",
            3,
            3,
            2,
            List.of(1, 5),
            List.of(
                new RunReport.ModeResult("bm25", List.of(0.5, Double.NaN), List.of(0.25, 1.0)))));

    RunReport r = read(run);
    assertEquals("round-1", r.dataRun());
    assertEquals(List.of(0.5), r.ttt().editGains(), "round 1's edits, not round 0's");
    assertEquals(
        List.of("round-0/ttt_scores", "round-1/ttt_scores", "rounds", "continual"),
        r.tables().stream().map(RunReport.Table::table).toList());
    assertEquals(List.of(0, 1), r.rounds().rows().stream().map(x -> x.get(0)).toList());
    assertNull(r.rounds().rows().get(1).get(2));

    double[][] m = r.continual().accuracy();
    assertEquals(3, m.length);
    assertEquals(2, m[0].length);
    assertEquals(0.5, m[0][0]);
    assertTrue(Double.isNaN(m[1][1]), "not measured");
    assertEquals((0.5 + 0.25) / 2, m[2][1], 1e-9, "mean over sequences");
    assertEquals(2, r.continual().sequences());

    RunReport.RetrievalEval e = r.retrieval().get(0);
    assertEquals("q.jsonl", e.queries());
    assertTrue(Double.isNaN(e.modes().get(0).accuracy().get(1)), "NaN survives JSON as null");
    assertEquals(1.0, e.modes().get(0).recall().get(1));
  }

  @Test
  void theCommandWritesWhereToldAndLeavesTheRunAlone() throws Exception {
    Path run = singleRun();
    List<Path> before;
    try (Stream<Path> s = Files.walk(run)) {
      before = s.sorted().toList();
    }
    Path out = dir.resolve("elsewhere/report.html");
    CliRun r = CliRun.of("report", "--run-dir", run.toString(), "--out", out.toString());
    assertEquals(0, r.exitCode(), r.toString());
    assertTrue(r.out().contains("report: " + out), r.out());
    String html = Files.readString(out);
    assertTrue(html.contains("<section id=\"ttt\">"));
    assertFalse(html.contains("<script>alert(1)"), "the reject example is escaped");
    try (Stream<Path> s = Files.walk(run)) {
      assertEquals(before, s.sorted().toList(), "report reads the run and writes nothing into it");
    }
    assertFalse(Files.exists(out.resolveSibling(".report.html.crc")));
  }

  @Test
  void aMissingRunIsAUsageError() {
    CliRun r = CliRun.of("report", "--run-dir", dir.resolve("nope").toString());
    assertEquals(2, r.exitCode(), r.toString());
    assertTrue(r.err().contains("no run directory"), r.err());
  }
}
