package dev.editforge.report;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.coalesce;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.countDistinct;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.max;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.sum;

import com.fasterxml.jackson.databind.JsonNode;
import dev.editforge.io.Manifest;
import dev.editforge.io.RunDir;
import dev.editforge.io.SftSource;
import dev.editforge.io.StageTables;
import dev.editforge.io.Tables;
import dev.editforge.io.UnusableInputException;
import dev.editforge.text.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Reads a finished (or failed) run into a {@link RunReport}: the manifests and {@code _runs/}
 * records through the run's file system, the tables with Spark. Reads only; small aggregates come
 * back to the driver (per edit, per article, per reject reason), never whole tables. A run made by
 * {@code editforge iterate} holds ordinary runs in {@code round-<r>/} (and {@code train/}, {@code
 * heldout/}): their tables join the timeline and counts, and the per-article sections read the
 * latest round. Not thread-safe; one per report.
 */
public final class RunReader {
  private static final Logger LOG = LoggerFactory.getLogger(RunReader.class);

  /** Articles listed per section; a run with more says how many it left out. */
  static final int MAX_ARTICLES = 500;

  static final int MAX_REASONS = 12;
  static final int EXAMPLES_PER_REASON = 3;
  static final int EXAMPLE_CHARS = 400;

  private static final Pattern ROUND = Pattern.compile("round-(\\d+)");

  /** Tables whose presence makes a directory the run the per-article sections read. */
  private static final List<String> DATA_TABLES =
      List.of(
          Tables.SELF_EDITS,
          Tables.TTT_SCORES,
          Tables.SFT,
          Tables.FINETUNE,
          Tables.EVALUATION,
          Tables.EVALUATION_SEAL);

  private final SparkSession spark;
  private final RunDir run;

  public RunReader(SparkSession spark, RunDir run) {
    this.spark = spark;
    this.run = run;
  }

  /** A table found under the run: its display name, the run that holds it and its manifest. */
  record Located(String name, RunDir owner, String table, Manifest manifest) {}

  /**
   * @throws UnusableInputException (exit 2) when the run directory does not exist
   */
  public RunReport read() {
    if (!run.exists(run.root())) {
      throw new UnusableInputException("report: no run directory at " + run.root());
    }
    List<RunDir> nested = nestedRuns();
    List<Located> tables = new ArrayList<>(tablesOf(run, ""));
    for (RunDir n : nested) {
      tables.addAll(tablesOf(n, n.root().getName() + "/"));
    }
    tables.sort(
        Comparator.comparing(
                (Located l) -> (String) l.manifest().get("started_at"),
                Comparator.nullsLast(Comparator.naturalOrder()))
            .thenComparing(Located::name));
    List<RunReport.Command> commands = new ArrayList<>(commandsOf(run, ""));
    for (RunDir n : nested) {
      commands.addAll(commandsOf(n, n.root().getName() + ": "));
    }
    commands.sort(
        Comparator.comparing(
            RunReport.Command::startedAt, Comparator.nullsLast(Comparator.naturalOrder())));
    RunDir data = dataRun(nested);
    String dataLabel = data == run ? "" : data.root().getName();
    return new RunReport(
        display(run.root()),
        Instant.now().toString(),
        dataLabel,
        commands,
        tables.stream().map(RunReader::table).toList(),
        tables.stream().map(this::rejects).filter(r -> r != null).toList(),
        ttt(data),
        selection(data),
        finetune(data),
        evaluation(data),
        sealEvaluation(data),
        RetrievalEvaluations.read(run),
        rounds(),
        continual());
  }

  /** A local run shows as a plain path (what a person pastes into a browser). */
  static String display(Path p) {
    return "file".equals(p.toUri().getScheme()) ? p.toUri().getPath() : p.toString();
  }

  // ---- layout ----

  private List<FileStatus> dirs(RunDir r) {
    try {
      List<FileStatus> out = new ArrayList<>();
      for (FileStatus s : r.fs().listStatus(r.root())) {
        String name = s.getPath().getName();
        if (s.isDirectory() && !name.startsWith("_") && !name.startsWith(".")) {
          out.add(s);
        }
      }
      out.sort(Comparator.comparing(s -> s.getPath().getName()));
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + r.root(), e);
    }
  }

  /** Directories below the run that are runs themselves: no manifest, tables inside. */
  private List<RunDir> nestedRuns() {
    List<RunDir> out = new ArrayList<>();
    for (FileStatus s : dirs(run)) {
      if (run.exists(new Path(s.getPath(), RunDir.MANIFEST))) {
        continue;
      }
      RunDir n = new RunDir(s.getPath().toString(), spark.sparkContext().hadoopConfiguration());
      if (!tablesOf(n, "").isEmpty()) {
        out.add(n);
      }
    }
    return out;
  }

  private List<Located> tablesOf(RunDir r, String prefix) {
    List<Located> out = new ArrayList<>();
    for (FileStatus s : dirs(r)) {
      String table = s.getPath().getName();
      try {
        r.manifest(table).ifPresent(m -> out.add(new Located(prefix + table, r, table, m)));
      } catch (UncheckedIOException e) {
        LOG.warn("report: unreadable manifest of {} left out", s.getPath(), e);
      }
    }
    return out;
  }

  /**
   * The run the per-article sections describe: the run itself when it holds their tables, else its
   * latest {@code round-<r>}.
   */
  private RunDir dataRun(List<RunDir> nested) {
    if (DATA_TABLES.stream().anyMatch(t -> run.manifest(t).isPresent())) {
      return run;
    }
    RunDir best = null;
    int bestRound = -1;
    for (RunDir n : nested) {
      Matcher m = ROUND.matcher(n.root().getName());
      if (m.matches() && Integer.parseInt(m.group(1)) > bestRound) {
        best = n;
        bestRound = Integer.parseInt(m.group(1));
      }
    }
    return best != null ? best : run;
  }

  private static RunReport.Table table(Located l) {
    Manifest m = l.manifest();
    Map<String, Number> counts = m.counts() == null ? Map.of() : m.counts();
    return new RunReport.Table(
        l.name(),
        m.stage(),
        m.status(),
        (String) m.get("started_at"),
        m.endedAt(),
        m.get("seconds") instanceof Number n ? n.doubleValue() : Double.NaN,
        value(counts, "input"),
        value(counts, "accepted"),
        value(counts, "rejected"),
        value(counts, "duplicates"),
        value(counts, "output"));
  }

  private static long value(Map<String, Number> counts, String key) {
    Number n = counts.get(key);
    return n == null ? 0 : n.longValue();
  }

  private List<RunReport.Command> commandsOf(RunDir r, String prefix) {
    Path dir = r.path("_runs");
    List<RunReport.Command> out = new ArrayList<>();
    try {
      if (!r.fs().exists(dir)) {
        return out;
      }
      for (FileStatus s : r.fs().listStatus(dir)) {
        if (!s.getPath().getName().endsWith(".json")) {
          continue;
        }
        try {
          JsonNode j = Json.MAPPER.readTree(r.readString(s.getPath()));
          out.add(
              new RunReport.Command(
                  prefix + j.path("command").asText("?"),
                  j.path("started_at").asText(null),
                  j.path("ended_at").asText(null),
                  j.path("exit_code").asInt(-1)));
        } catch (IOException | UncheckedIOException e) {
          LOG.warn("report: unreadable run record {} left out", s.getPath(), e);
        }
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dir, e);
    }
  }

  // ---- rejects ----

  private RunReport.Rejects rejects(Located l) {
    if (l.manifest().counts() == null || l.manifest().count("rejected") == 0) {
      return null;
    }
    Path dir = new Path(l.owner().table(l.table()), RunDir.REJECTS);
    if (!l.owner().exists(dir)) {
      return null;
    }
    Dataset<Row> df = spark.read().schema(Tables.REJECTS_SCHEMA).json(dir.toString());
    List<Row> reasons =
        df.groupBy("reason").count().orderBy(col("count").desc(), col("reason")).collectAsList();
    if (reasons.isEmpty()) {
      return null;
    }
    long total = reasons.stream().mapToLong(r -> r.getLong(1)).sum();
    Map<String, List<RunReport.Example>> examples = new LinkedHashMap<>();
    for (Row e :
        df.withColumn(
                "n",
                row_number()
                    .over(Window.partitionBy("reason").orderBy(col("source_file"), col("line"))))
            .filter(col("n").leq(EXAMPLES_PER_REASON))
            .orderBy(col("reason"), col("n"))
            .select("reason", "source_file", "line", "record")
            .collectAsList()) {
      examples
          .computeIfAbsent(String.valueOf(e.getString(0)), k -> new ArrayList<>())
          .add(
              new RunReport.Example(
                  e.getString(1),
                  e.isNullAt(2) ? 0 : e.getLong(2),
                  Markup.cut(e.getString(3), EXAMPLE_CHARS)));
    }
    List<RunReport.Reason> top = new ArrayList<>();
    for (Row r : reasons.subList(0, Math.min(MAX_REASONS, reasons.size()))) {
      String reason = String.valueOf(r.getString(0));
      top.add(new RunReport.Reason(reason, r.getLong(1), examples.getOrDefault(reason, List.of())));
    }
    return new RunReport.Rejects(l.name(), total, top, reasons.size() - top.size());
  }

  // ---- the per-article sections ----

  private Dataset<Row> parquet(RunDir r, String table) {
    return spark.read().parquet(r.tableUri(table));
  }

  /** article_id -> title where the run has its articles table. */
  private Dataset<Row> withTitles(RunDir r, Dataset<Row> byArticle) {
    if (!StageTables.isUsable(r, Tables.ARTICLES)) {
      return byArticle.withColumn("title", lit(null).cast("string"));
    }
    Dataset<Row> titles =
        parquet(r, Tables.ARTICLES).select(col("article_id").as("t_id"), col("title"));
    return byArticle
        .join(titles, byArticle.col("article_id").equalTo(titles.col("t_id")), "left")
        .drop("t_id");
  }

  private RunReport.Ttt ttt(RunDir r) {
    if (!StageTables.isUsable(r, Tables.TTT_SCORES)) {
      return null;
    }
    Dataset<Row> scores = parquet(r, Tables.TTT_SCORES);
    List<Double> gains =
        scores.groupBy("edit_id").agg(avg("adapter_gain")).collectAsList().stream()
            .map(x -> x.getDouble(1))
            .toList();
    Dataset<Row> perArticle =
        withTitles(
                r,
                scores
                    .groupBy("article_id")
                    .agg(
                        countDistinct("edit_id").as("edits"),
                        avg("baseline_accuracy").as("baseline"),
                        avg("adapter_accuracy").as("adapter")))
            .persist();
    try {
      int total = (int) perArticle.count();
      List<RunReport.ArticleTtt> articles = new ArrayList<>();
      for (Row a :
          perArticle
              .orderBy(col("title"), col("article_id"))
              .limit(MAX_ARTICLES)
              .select("article_id", "title", "edits", "baseline", "adapter")
              .collectAsList()) {
        articles.add(
            new RunReport.ArticleTtt(
                a.getString(0),
                a.getString(1),
                (int) a.getLong(2),
                a.getDouble(3),
                a.getDouble(4)));
      }
      return new RunReport.Ttt(gains, articles, total);
    } finally {
      perArticle.unpersist();
    }
  }

  private RunReport.Selection selection(RunDir r) {
    if (!StageTables.isUsable(r, Tables.SFT)) {
      return null;
    }
    Manifest m = r.manifest(Tables.SFT).orElseThrow();
    Map<String, Long> leftOut = new LinkedHashMap<>();
    for (String k :
        List.of("unscored", "blank", "below_gain", "below_accuracy", "beyond_k", "duplicates")) {
      if (m.counts().containsKey(k) && m.count(k) > 0) {
        leftOut.put(k, m.count(k));
      }
    }
    Map<String, Long> bySource = new LinkedHashMap<>();
    for (SftSource s : SftSource.values()) {
      if (m.counts().containsKey(s.wireName())) {
        bySource.put(s.wireName(), m.count(s.wireName()));
      }
    }
    List<RunReport.PromptFormat> formats = new ArrayList<>();
    if (StageTables.isUsable(r, Tables.SELF_EDITS)) {
      Dataset<Row> edits = parquet(r, Tables.SELF_EDITS).select("edit_id", "prompt_key");
      if (StageTables.isUsable(r, Tables.TTT_SCORES)) {
        Dataset<Row> gains =
            parquet(r, Tables.TTT_SCORES)
                .groupBy(col("edit_id").as("g_id"))
                .agg(avg("adapter_gain").as("gain"));
        edits = edits.join(gains, edits.col("edit_id").equalTo(gains.col("g_id")), "left");
      } else {
        edits = edits.withColumn("gain", lit(null).cast("double"));
      }
      Dataset<Row> kept =
          parquet(r, Tables.SFT)
              .filter(col("source").equalTo(SftSource.SELF_EDIT.wireName()))
              .select(col("origin_id").as("k_id"))
              .distinct()
              .withColumn("kept", lit(1L));
      edits = edits.join(kept, edits.col("edit_id").equalTo(kept.col("k_id")), "left");
      for (Row f :
          edits
              .groupBy("prompt_key")
              .agg(
                  count(lit(1)).as("generated"),
                  count("gain").as("scored"),
                  avg("gain").as("mean_gain"),
                  sum(coalesce(col("kept"), lit(0L))).as("kept"))
              .orderBy(col("kept").desc(), col("prompt_key"))
              .collectAsList()) {
        formats.add(
            new RunReport.PromptFormat(
                f.getString(0),
                f.getLong(1),
                f.getLong(2),
                f.isNullAt(3) ? Double.NaN : f.getDouble(3),
                f.getLong(4)));
      }
    }
    return new RunReport.Selection(
        m.count("self_edits"), m.count(SftSource.SELF_EDIT.wireName()), leftOut, bySource, formats);
  }

  static final String TRAINER_LOG = "trainer_log.json";

  private RunReport.Finetune finetune(RunDir r) {
    Path log = new Path(r.table(Tables.FINETUNE), TRAINER_LOG);
    if (!StageTables.isUsable(r, Tables.FINETUNE) || !r.exists(log)) {
      return null;
    }
    JsonNode j;
    try {
      j = Json.MAPPER.readTree(r.readString(log));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot parse " + log, e);
    }
    List<RunReport.Point> train = points(j.path("train_loss"));
    List<RunReport.Point> eval = new ArrayList<>();
    JsonNode initial = j.path("initial_eval_loss");
    if (initial.isNumber()) {
      eval.add(new RunReport.Point(0, initial.asDouble()));
    }
    eval.addAll(points(j.path("eval_loss")));
    Manifest m = r.manifest(Tables.FINETUNE).orElseThrow();
    Map<String, String> facts = new LinkedHashMap<>();
    for (String k :
        List.of(
            "base_model",
            "device",
            "batching",
            "first_train_loss",
            "last_train_loss",
            "initial_eval_loss",
            "final_eval_loss",
            "best_eval_loss")) {
      if (m.get(k) != null) {
        facts.put(k, m.get(k).toString());
      }
    }
    for (String k : List.of("steps", "train_samples", "eval_samples", "train_tokens")) {
      if (m.counts().containsKey(k)) {
        facts.put(k, Long.toString(m.count(k)));
      }
    }
    return new RunReport.Finetune(train, eval, j.path("best_step").asInt(-1), facts);
  }

  private static List<RunReport.Point> points(JsonNode pairs) {
    List<RunReport.Point> out = new ArrayList<>();
    for (JsonNode p : pairs) {
      if (p.size() >= 2 && p.get(1).isNumber()) {
        out.add(new RunReport.Point(p.get(0).asDouble(), p.get(1).asDouble()));
      }
    }
    return out;
  }

  private RunReport.Evaluation evaluation(RunDir r) {
    Path articles = new Path(r.table(Tables.EVALUATION), "articles");
    if (!StageTables.isUsable(r, Tables.EVALUATION) || !r.exists(articles)) {
      return null;
    }
    Dataset<Row> df = spark.read().parquet(articles.toString());
    List<RunReport.ArticleEval> out = new ArrayList<>();
    for (Row a :
        df.orderBy(col("title"), col("article_id"))
            .limit(MAX_ARTICLES)
            .select("article_id", "title", "questions", "base_accuracy", "tuned_accuracy")
            .collectAsList()) {
      out.add(
          new RunReport.ArticleEval(
              a.getString(0), a.getString(1), a.getInt(2), a.getDouble(3), a.getDouble(4)));
    }
    Manifest m = r.manifest(Tables.EVALUATION).orElseThrow();
    return new RunReport.Evaluation(
        out, number(m, "base_accuracy"), number(m, "tuned_accuracy"), (int) df.count());
  }

  private static double number(Manifest m, String key) {
    return m.get(key) instanceof Number n ? n.doubleValue() : Double.NaN;
  }

  private RunReport.SealEvaluation sealEvaluation(RunDir r) {
    if (!StageTables.isUsable(r, Tables.EVALUATION_SEAL)) {
      return null;
    }
    Dataset<Row> df = parquet(r, Tables.EVALUATION_SEAL);
    List<RunReport.SealArticle> out = new ArrayList<>();
    for (Row a :
        df.orderBy(col("title"), col("article_id"))
            .limit(MAX_ARTICLES)
            .select(
                "article_id",
                "title",
                "questions",
                "no_training",
                "passage_only",
                "base_edits",
                "policy_edits")
            .collectAsList()) {
      out.add(
          new RunReport.SealArticle(
              a.getString(0),
              a.getString(1),
              a.getInt(2),
              a.getDouble(3),
              a.getDouble(4),
              a.getDouble(5),
              a.isNullAt(6) ? Double.NaN : a.getDouble(6)));
    }
    Manifest m = r.manifest(Tables.EVALUATION_SEAL).orElseThrow();
    Map<String, Double> means = new LinkedHashMap<>();
    for (String k : List.of("no_training", "passage_only", "base_edits", "policy_edits")) {
      means.put(k, number(m, k));
    }
    return new RunReport.SealEvaluation(out, means, (int) df.count());
  }

  // ---- what iterate and continual write at the top of the run ----

  private RunReport.Rounds rounds() {
    if (!StageTables.isUsable(run, Tables.ROUNDS)) {
      return null;
    }
    Dataset<Row> df = parquet(run, Tables.ROUNDS).orderBy("round");
    List<String> columns = List.of(df.columns());
    List<List<Object>> rows = new ArrayList<>();
    for (Row r : df.collectAsList()) {
      List<Object> row = new ArrayList<>();
      for (int i = 0; i < r.size(); i++) {
        Object v = r.isNullAt(i) ? null : r.get(i);
        row.add(v == null || v instanceof Number || v instanceof String ? v : v.toString());
      }
      rows.add(row);
    }
    return new RunReport.Rounds(columns, rows);
  }

  private RunReport.Continual continual() {
    if (!StageTables.isUsable(run, Tables.CONTINUAL)) {
      return null;
    }
    Dataset<Row> df = parquet(run, Tables.CONTINUAL);
    List<Row> cells =
        df.filter(col("measured")).groupBy("step", "column").agg(avg("accuracy")).collectAsList();
    Row dims = df.agg(max("step"), max("column"), countDistinct("sequence")).first();
    if (dims.isNullAt(0)) {
      return null;
    }
    int steps = dims.getInt(0) + 1;
    int cols = dims.getInt(1) + 1;
    double[][] acc = new double[steps][cols];
    for (double[] row : acc) {
      java.util.Arrays.fill(row, Double.NaN);
    }
    for (Row c : cells) {
      acc[c.getInt(0)][c.getInt(1)] = c.getDouble(2);
    }
    return new RunReport.Continual((int) dims.getLong(2), acc);
  }
}
