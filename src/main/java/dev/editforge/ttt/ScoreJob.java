package dev.editforge.ttt;

import static org.apache.spark.sql.functions.avg;
import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.collect_list;
import static org.apache.spark.sql.functions.count;
import static org.apache.spark.sql.functions.countDistinct;
import static org.apache.spark.sql.functions.first;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.not;
import static org.apache.spark.sql.functions.row_number;
import static org.apache.spark.sql.functions.size;
import static org.apache.spark.sql.functions.slice;
import static org.apache.spark.sql.functions.sort_array;
import static org.apache.spark.sql.functions.struct;
import static org.apache.spark.sql.functions.sum;
import static org.apache.spark.sql.functions.to_json;
import static org.apache.spark.sql.functions.when;

import com.typesafe.config.Config;
import dev.editforge.config.MaxErrorFraction;
import dev.editforge.config.ScoreSettings;
import dev.editforge.io.Fingerprints;
import dev.editforge.io.Ids;
import dev.editforge.io.Manifest;
import dev.editforge.io.RunDir;
import dev.editforge.io.Tables;
import dev.editforge.io.WorkParts;
import dev.editforge.spark.GpuProfiles;
import dev.editforge.spark.PipelineStage;
import dev.editforge.spark.StageContext;
import dev.editforge.spark.StageOutput;
import dev.editforge.spark.StagePlan;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.resource.ResourceProfile;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.expressions.Window;
import org.apache.spark.storage.StorageLevel;
import org.apache.spark.util.CollectionAccumulator;

/**
 * {@code editforge score}: scores every usable self-edit by test-time training and writes {@code
 * ttt_scores} (one row per edit and repeat, sorted by edit_id, repeat).
 *
 * <ol>
 *   <li>Reads {@code self_edits} joined with {@code articles}. An edit with an {@code error}, a
 *       blank completion, an unknown article or an article without questions is rejected (counted
 *       by reason in the manifest, with sample ids, and listed in {@code ttt_scores/_rejects} with
 *       {@code line = 0}, a Parquet input having no lines); a repeated edit_id is a duplicate.
 *   <li>Keys every accepted edit by content ({@link ScoreKeys}) and reuses, per edit and repeat,
 *       the rows of the previous committed table or of committed work parts computed under the same
 *       edit key ({@link ScoreReuse}); rows judged under another judge or other gold answers are
 *       re-judged from their stored answers without training. Rows of removed edits are dropped.
 *       {@code --force} reuses nothing.
 *   <li>Groups the remaining edits by article (with the article's stored baseline answers when its
 *       baseline key is unchanged) and scores them on executors, one scorer per executor JVM
 *       ({@link dev.editforge.spark.ExecutorModelCache}), bound to the task's GPU.
 *   <li>Commits results in batches of {@code editforge.ttt.commit-every} articles, each its own
 *       Parquet part, with its rows' keys, under {@code <run-dir>/_work/score/part-<hash of its
 *       edit keys>} ({@link WorkParts}: written to a temporary directory, renamed, then marked
 *       {@code _COMMITTED}; anything unmarked is discarded on resume). A rerun after a kill reuses
 *       what a part holds; since a repeat's result depends only on (seed, edit, repeat), the final
 *       table equals an uninterrupted run's.
 *   <li>Unions reused and new rows into the table and their keys into {@code ttt_scores/_keys/};
 *       once the {@link dev.editforge.spark.StageRunner} has committed it, deletes the work
 *       directory.
 * </ol>
 *
 * The accepted work (article texts and edit completions) is collected on the driver to plan the
 * batches: TTT costs minutes of accelerator time per edit, so any edit count a cluster can score
 * fits in driver memory.
 */
public final class ScoreJob implements PipelineStage {
  public static final String STAGE = "score";
  static final String WORK = "_work/score";
  static final String PART_PREFIX = "part-";

  static final String REASON_ERROR = "generation error";
  static final String REASON_BLANK = "blank completion";
  static final String REASON_UNKNOWN_ARTICLE = "unknown article";
  static final String REASON_NO_QUESTIONS = "article has no questions";
  private static final int REJECT_SAMPLES = 10;

  private final EditScorerFactory factory;

  /** The scorer of the configured {@code editforge.ttt.mode} ({@link ScorerFactories}). */
  public ScoreJob() {
    this(null);
  }

  /** Scores with {@code factory} (tests inject a fake); null = the configured one. */
  public ScoreJob(EditScorerFactory factory) {
    this.factory = factory;
  }

  @Override
  public String name() {
    return STAGE;
  }

  @Override
  public List<String> requires() {
    return List.of(Tables.SELF_EDITS, Tables.ARTICLES);
  }

  @Override
  public StagePlan plan(StageContext ctx) {
    ScoreSettings s = ScoreSettings.from(ctx.settings());
    RunDir run = ctx.runDir();
    EditScorerFactory injected = factory;
    return StagePlan.of(
        StageOutput.of(
            Tables.TTT_SCORES,
            configHash(ctx),
            List.of(
                Fingerprints.ofTable(run, Tables.SELF_EDITS),
                Fingerprints.ofTable(run, Tables.ARTICLES)),
            // the configured scorer resolves its model (a hub lookup), so only once there is work
            out ->
                score(
                    out,
                    s,
                    injected != null ? injected : ScorerFactories.forSettings(ctx.settings(), s))));
  }

  /** The ttt and judge sections; commit-every only changes how often results are committed. */
  static String configHash(StageContext ctx) {
    Config ttt =
        ctx.settings().section("ttt").withoutPath("commit-every").withoutPath("max-error-fraction");
    Config both = ttt.atPath("ttt").withFallback(ctx.settings().section("judge").atPath("judge"));
    return Fingerprints.configHash(both);
  }

  /** The accepted work, by article, and how many self-edits got each status (with sample ids). */
  record Classified(
      List<ArticleWork> todo, Map<String, Long> byStatus, Map<String, List<String>> samples) {
    long count(String status) {
      return byStatus.getOrDefault(status, 0L);
    }

    /** The reject reasons alone: every status but accepted and duplicate. */
    <V> Map<String, V> rejects(Map<String, V> byStatusMap) {
      Map<String, V> out = new TreeMap<>(byStatusMap);
      out.remove("accepted");
      out.remove("duplicate");
      return out;
    }
  }

  /**
   * Writes ttt_scores into {@code out}: plans, scores what no committed part holds, unions the
   * parts.
   */
  static void score(StageOutput.Staged out, ScoreSettings s, EditScorerFactory f) throws Exception {
    StageContext ctx = out.context();
    RunDir run = ctx.runDir();
    SparkSession spark = ctx.spark();
    Manifest manifest = out.manifest();
    manifest
        .put("model", s.model())
        .put("mode", s.mode().name().toLowerCase(Locale.ROOT))
        .put("device_setting", s.device())
        .put("judge", s.judgeKind())
        .put("eval_times", s.evalTimes())
        .put("seed", s.seed());

    spark.sparkContext().setJobDescription("score: plan");
    Classified c = classifyAll(spark, run);
    if (failOnUnusable(out, s, c)) {
      return;
    }

    WorkParts work = prepareWork(ctx);
    out.afterCommit(work::deleteAll);
    List<ArticleWork> todo = c.todo();
    ScoreKeys keys =
        ScoreKeys.of(
            ctx.settings().codeVersion(),
            ctx.settings().section("ttt"),
            ctx.settings().section("judge"),
            Fingerprints.ofModel(s.model()));
    Map<String, ScoreReuse.KeyedWork> keyed = new TreeMap<>();
    Map<String, ScoreReuse.Wanted> wanted = new HashMap<>();
    Map<String, String> baselineKeys = new HashMap<>();
    for (ArticleWork a : todo) {
      Map<String, String> editKeys = new HashMap<>();
      String verdictKey = keys.verdict(a);
      for (ArticleWork.Edit e : a.edits()) {
        String k = keys.edit(a, e);
        editKeys.put(e.editId(), k);
        wanted.put(e.editId(), new ScoreReuse.Wanted(a.articleId(), k, verdictKey));
      }
      String baselineKey = keys.baseline(a);
      baselineKeys.put(a.articleId(), baselineKey);
      keyed.put(a.articleId(), new ScoreReuse.KeyedWork(a, editKeys, baselineKey, verdictKey));
    }
    Dataset<Row> previous =
        ctx.force()
            ? spark
                .createDataFrame(List.of(), ScoreReuse.KEYED_SCHEMA)
                .withColumn("source", lit(""))
            : ScoreReuse.previous(spark, run, work);
    ScoreReuse.Plan reuse =
        ScoreReuse.plan(
            ctx.force() ? List.of() : ScoreReuse.collect(previous),
            wanted,
            s.evalTimes(),
            baselineKeys);

    // The edits no earlier row stands for, by article, with the stored baseline answers of
    // articles whose questions did not change.
    List<ScoreReuse.KeyedWork> pending = new ArrayList<>();
    int withBaseline = 0;
    for (ScoreReuse.KeyedWork kw : keyed.values()) {
      List<ArticleWork.Edit> edits =
          kw.work().edits().stream()
              .filter(e -> !reuse.reusedEdits().contains(e.editId()))
              .toList();
      if (!edits.isEmpty()) {
        List<String> stored = reuse.baselines().get(kw.work().articleId());
        withBaseline += stored == null ? 0 : 1;
        pending.add(
            new ScoreReuse.KeyedWork(
                kw.work().with(edits, stored), kw.editKeys(), kw.baselineKey(), kw.verdictKey()));
      }
    }
    long editsToTrain = pending.stream().mapToLong(kw -> kw.work().edits().size()).sum();
    long reusedEdits = reuse.reusedEdits().size();
    long removed = reuse.removed();
    long rejudgedRows = reuse.rejudged(wanted);
    int resumed = reuse.resumedArticles().size();
    if (resumed > 0) {
      ctx.say(
          String.format(
              Locale.ROOT,
              "score: resuming: %,d of %,d articles already scored in %s",
              resumed,
              todo.size(),
              work.dir()));
    }
    if (reusedEdits > 0 || removed > 0) {
      ctx.say(
          String.format(
              Locale.ROOT,
              "score: %,d of %,d edits reused from earlier results (%,d rows to re-judge), %,d to"
                  + " train (%,d articles, %,d with stored baseline answers); %,d rows of removed"
                  + " edits dropped",
              reusedEdits,
              reusedEdits + editsToTrain,
              rejudgedRows,
              editsToTrain,
              pending.size(),
              withBaseline,
              removed));
    }

    // Reused rows: as stored when judged as this run would, else re-judged from their answers.
    Dataset<Row> chosen =
        previous.join(
            spark.createDataFrame(ScoreReuse.chosenRows(reuse, wanted), ScoreReuse.CHOSEN_SCHEMA),
            col("edit_id")
                .equalTo(col("c_edit_id"))
                .and(col("repeat").equalTo(col("c_repeat")))
                .and(col("source").equalTo(col("c_source"))));
    Dataset<Row> asStored = chosen.filter(not(col("c_rejudge"))).select(ScoreReuse.keyedColumns());
    List<Column> rejudgeCols = new ArrayList<>(List.of(ScoreReuse.keyedColumns()));
    rejudgeCols.addAll(
        List.of(col("c_verdict_key"), col("i_title"), col("i_questions"), col("i_golds")));
    Dataset<Row> rejudged =
        spark.createDataFrame(
            chosen
                .filter(col("c_rejudge"))
                .join(
                    spark.createDataFrame(ScoreReuse.articleRows(todo), ScoreReuse.ARTICLE_SCHEMA),
                    col("article_id").equalTo(col("i_article_id")))
                .select(rejudgeCols.toArray(new Column[0]))
                .javaRDD()
                .mapPartitions(new ScoreReuse.Rejudge(ctx.settings())),
            ScoreReuse.KEYED_SCHEMA);

    CollectionAccumulator<String> devices =
        spark.sparkContext().collectionAccumulator("score devices");
    List<String> written = new ArrayList<>();
    int batches = runBatches(ctx, s, f, work, pending, devices, written);

    Dataset<Row> keyedResult =
        asStored
            .unionByName(rejudged)
            .unionByName(readParts(spark, written))
            .persist(StorageLevel.MEMORY_AND_DISK());
    try {
      // One file: the table is small (a row per edit and repeat) and reads back in edit_id, repeat
      // order. The keys go beside it, hidden from its readers.
      keyedResult
          .select(
              java.util.Arrays.stream(Tables.TTT_SCORES_SCHEMA.fieldNames())
                  .map(org.apache.spark.sql.functions::col)
                  .toArray(Column[]::new))
          .repartition(1)
          .sortWithinPartitions("edit_id", "repeat")
          .write()
          .parquet(out.uri());
      keyedResult
          .select("edit_id", "repeat", "edit_key", "baseline_key", "verdict_key")
          .repartition(1)
          .sortWithinPartitions("edit_id", "repeat")
          .write()
          .parquet(new Path(out.path(), ScoreReuse.KEYS).toString());
    } finally {
      keyedResult.unpersist(false);
    }
    writeRejects(spark, run, out.rejectsUri());
    Row st =
        spark
            .read()
            .parquet(out.uri())
            .agg(
                count(lit(1)),
                countDistinct(col("edit_id"), col("repeat")),
                countDistinct(col("edit_id")),
                countDistinct(col("article_id")),
                avg("baseline_accuracy"),
                avg("adapter_accuracy"),
                avg("adapter_gain"),
                sum("seconds"))
            .first();
    long rows = st.getLong(0);
    long distinctRows = st.getLong(1);
    long articles = st.getLong(3);
    long accepted = c.count("accepted");
    long duplicates = c.count("duplicate");
    Map<String, Long> rejectsByReason = c.rejects(c.byStatus());
    long rejected = rejectsByReason.values().stream().mapToLong(Long::longValue).sum();

    manifest
        .count("input", accepted + rejected + duplicates)
        .count("accepted", accepted)
        .count("rejected", rejected)
        .count("duplicates", duplicates)
        .count("output", rows)
        .count("edits_scored", st.getLong(2))
        .count("repeats", s.evalTimes())
        .count("articles", articles)
        .count("resumed_articles", resumed)
        .count("batches", batches)
        .count("reused", reusedEdits * s.evalTimes())
        .count("computed", editsToTrain * s.evalTimes())
        .count("removed", removed)
        .count("rejudged", rejudgedRows)
        .count("reused_baselines", withBaseline);
    manifest.put("rejects_by_reason", rejectsByReason);
    manifest.put("reject_samples", c.rejects(c.samples()));
    manifest.put("mean_baseline_accuracy", st.isNullAt(4) ? null : st.getDouble(4));
    manifest.put("mean_adapter_accuracy", st.isNullAt(5) ? null : st.getDouble(5));
    manifest.put("mean_adapter_gain", st.isNullAt(6) ? null : st.getDouble(6));
    manifest.put("scorer_seconds", st.isNullAt(7) ? 0.0 : st.getDouble(7));
    manifest.put("devices", new TreeSet<>(devices.value()).stream().toList());
    if (accepted == 0) {
      manifest.put("warning", "no usable self-edits: nothing was scored");
    }
    long expected = accepted * s.evalTimes();
    if (rows != expected || distinctRows != rows || articles != todo.size()) {
      throw new IllegalStateException(
          String.format(
              Locale.ROOT,
              "score: the reused and committed rows in %s hold %d rows (%d distinct edit/repeat pairs, %d articles) but"
                  + " %d accepted edits x %d repeats = %d rows over %d articles were expected; rerun with --force",
              work.dir(),
              rows,
              distinctRows,
              articles,
              accepted,
              s.evalTimes(),
              expected,
              todo.size()));
    }
    out.summary(
        String.format(
            Locale.ROOT,
            "score: ttt_scores completed: %,d rows (%,d edits x %d repeats over %,d articles; %,d rejected, %,d duplicates "
                + "of %,d self-edits); mean accuracy %s before, %s after -> %s",
            rows,
            st.getLong(2),
            s.evalTimes(),
            articles,
            rejected,
            duplicates,
            accepted + rejected + duplicates,
            fmt(manifest.get("mean_baseline_accuracy")),
            fmt(manifest.get("mean_adapter_accuracy")),
            run.table(Tables.TTT_SCORES)));
  }

  /**
   * Checks {@code ttt.max-error-fraction} against the self-edits that cannot be scored, before any
   * adapter is trained: above it, writes an empty table with the rejects and their counts, marks
   * the output failed (exit 3) and returns true. Committed parts of an interrupted run stay in
   * {@code _work/score/} for when the edits are fixed or the threshold raised.
   */
  static boolean failOnUnusable(StageOutput.Staged out, ScoreSettings s, Classified c) {
    long accepted = c.count("accepted");
    long duplicates = c.count("duplicate");
    Map<String, Long> rejectsByReason = c.rejects(c.byStatus());
    long rejected = rejectsByReason.values().stream().mapToLong(Long::longValue).sum();
    long input = accepted + rejected + duplicates;
    Manifest manifest = out.manifest();
    manifest.put("error_fraction", MaxErrorFraction.fraction(rejected, input));
    manifest.put("max_error_fraction", s.maxErrorFraction().value());
    String failure =
        s.maxErrorFraction()
            .failure("score: " + Tables.TTT_SCORES, rejected, input, "self-edits cannot be scored");
    if (failure == null) {
      return false;
    }
    SparkSession spark = out.context().spark();
    RunDir run = out.context().runDir();
    spark.createDataFrame(List.of(), Tables.TTT_SCORES_SCHEMA).write().parquet(out.uri());
    writeRejects(spark, run, out.rejectsUri());
    manifest
        .count("input", input)
        .count("accepted", accepted)
        .count("rejected", rejected)
        .count("duplicates", duplicates)
        .count("output", 0)
        .count("edits_scored", 0);
    manifest.put("rejects_by_reason", rejectsByReason);
    manifest.put("reject_samples", c.rejects(c.samples()));
    out.fail(
        failure
            + "; reasons "
            + rejectsByReason
            + "; nothing was scored (see "
            + new Path(run.table(Tables.TTT_SCORES), RunDir.REJECTS)
            + "); fix self_edits (rerun generate) or raise the threshold");
    out.summary(
        String.format(
            Locale.ROOT,
            "score: ttt_scores failed: %,d of %,d self-edits cannot be scored, none scored -> %s",
            rejected,
            input,
            run.table(Tables.TTT_SCORES)));
    return true;
  }

  /** Classifies every self-edit once and plans the accepted ones. */
  static Classified classifyAll(SparkSession spark, RunDir run) {
    Dataset<Row> classified = classify(spark, run).persist(StorageLevel.MEMORY_AND_DISK());
    try {
      Map<String, Long> byStatus = new TreeMap<>();
      Map<String, List<String>> samples = new TreeMap<>();
      for (Row r :
          classified
              .groupBy("status")
              .agg(
                  count(lit(1)).as("n"),
                  slice(sort_array(collect_list("edit_id")), 1, REJECT_SAMPLES).as("ids"))
              .collectAsList()) {
        byStatus.put(r.getString(0), r.getLong(1));
        samples.put(r.getString(0), new ArrayList<>(r.<String>getList(2)));
      }
      return new Classified(
          plan(classified.filter(col("status").equalTo("accepted"))), byStatus, samples);
    } finally {
      classified.unpersist(false);
    }
  }

  /**
   * The rejected self-edits, one JSON line each with {@code line = 0} (a Parquet input has no
   * lines).
   */
  static void writeRejects(SparkSession spark, RunDir run, String uri) {
    classify(spark, run)
        .filter(col("status").notEqual("accepted").and(col("status").notEqual("duplicate")))
        .select(
            col("status").as("reason"),
            lit(run.tableUri(Tables.SELF_EDITS)).as("source_file"),
            lit(0L).as("line"),
            to_json(struct(col("edit_id"), col("article_id"), col("error"))).as("record"))
        .orderBy("record")
        .coalesce(1)
        .write()
        .json(uri);
  }

  private static String fmt(Object d) {
    return d == null ? "-" : String.format(Locale.ROOT, "%.3f", ((Number) d).doubleValue());
  }

  /**
   * {@code <run-dir>/_work/score}: keeps the committed parts (unless --force) — their rows carry
   * their keys, so they are reused whatever the inputs are now — and drops what a killed run left
   * uncommitted.
   */
  static WorkParts prepareWork(StageContext ctx) {
    WorkParts work = WorkParts.of(ctx.runDir(), "score");
    if (ctx.force()) {
      work.deleteAll();
    }
    work.discardUncommitted();
    return work;
  }

  /** Every self-edit with its status: accepted, duplicate or a reject reason; plus its article. */
  static Dataset<Row> classify(SparkSession spark, RunDir run) {
    Dataset<Row> edits =
        spark
            .read()
            .parquet(run.tableUri(Tables.SELF_EDITS))
            .select("edit_id", "article_id", "completion", "error");
    Dataset<Row> articles =
        spark
            .read()
            .parquet(run.tableUri(Tables.ARTICLES))
            .select(col("article_id").as("a_id"), col("title"), col("context"), col("questions"));
    Dataset<Row> joined =
        edits.join(articles, edits.col("article_id").equalTo(articles.col("a_id")), "left");
    Column reason =
        when(col("error").isNotNull(), lit(REASON_ERROR))
            .when(
                col("completion").isNull().or(col("completion").rlike("(?U)^\\s*$")),
                lit(REASON_BLANK))
            .when(col("a_id").isNull(), lit(REASON_UNKNOWN_ARTICLE))
            .when(size(col("questions")).leq(0), lit(REASON_NO_QUESTIONS))
            .otherwise(lit(null).cast("string"));
    Dataset<Row> withReason = joined.withColumn("reason", reason);
    // Of rows sharing an edit_id, a usable one wins; ties by content, so the choice is stable.
    Dataset<Row> ranked =
        withReason.withColumn(
            "rn",
            row_number()
                .over(
                    Window.partitionBy("edit_id")
                        .orderBy(
                            col("reason").isNull().desc(),
                            col("article_id").asc(),
                            col("completion").asc_nulls_last())));
    return ranked
        .withColumn(
            "status",
            when(col("rn").gt(1), lit("duplicate"))
                .when(col("reason").isNull(), lit("accepted"))
                .otherwise(col("reason")))
        .drop("rn", "reason", "a_id");
  }

  /** Accepted edits grouped by article, articles and edits sorted by id. */
  static List<ArticleWork> plan(Dataset<Row> accepted) {
    List<Row> groups =
        accepted
            .groupBy("article_id")
            .agg(
                first("title").as("title"),
                first("context").as("context"),
                first("questions").as("questions"),
                collect_list(struct(col("edit_id"), col("completion"))).as("edits"))
            .collectAsList();
    List<ArticleWork> out = new ArrayList<>(groups.size());
    for (Row g : groups) {
      List<ArticleWork.Question> questions = new ArrayList<>();
      for (Row q : g.<Row>getList(g.fieldIndex("questions"))) {
        questions.add(
            new ArticleWork.Question(
                q.getString(q.fieldIndex("question")), q.<String>getList(q.fieldIndex("answers"))));
      }
      List<ArticleWork.Edit> edits = new ArrayList<>();
      for (Row e : g.<Row>getList(g.fieldIndex("edits"))) {
        edits.add(new ArticleWork.Edit(e.getString(0), e.getString(1)));
      }
      edits.sort(Comparator.comparing(ArticleWork.Edit::editId));
      out.add(
          new ArticleWork(
              g.getString(0),
              g.getString(g.fieldIndex("title")),
              g.getString(g.fieldIndex("context")),
              questions,
              edits));
    }
    out.sort(Comparator.comparing(ArticleWork::articleId));
    return out;
  }

  /** The keyed rows of the parts this run wrote. */
  static Dataset<Row> readParts(SparkSession spark, List<String> parts) {
    if (parts.isEmpty()) {
      return spark.createDataFrame(List.of(), ScoreReuse.KEYED_SCHEMA);
    }
    return spark.read().schema(ScoreReuse.KEYED_SCHEMA).parquet(parts.toArray(String[]::new));
  }

  /**
   * GPUs a score task asks Spark for through its stage-level profile: one when {@code ttt.device}
   * asks for a GPU (gpu, gpu:N), none for cpu and auto (auto binds to a GPU only where one is
   * visible, so it must not hold one from the scheduler).
   */
  static double gpusPerTask(String device) {
    return device.startsWith("gpu") ? 1 : 0;
  }

  private static <T> org.apache.spark.api.java.JavaRDD<T> withProfile(
      org.apache.spark.api.java.JavaRDD<T> rdd, ResourceProfile profile) {
    return profile == null ? rdd : rdd.withResources(profile);
  }

  /**
   * The part directory of a batch: named by a hash of its edits' keys, so a part never replaces one
   * an earlier run left with other content (which this run may still be reading from).
   */
  static String partName(List<ScoreReuse.KeyedWork> batch) {
    List<String> f = new ArrayList<>();
    for (ScoreReuse.KeyedWork kw : batch) {
      for (ArticleWork.Edit e : kw.work().edits()) {
        f.add(kw.editKeys().get(e.editId()));
      }
    }
    return PART_PREFIX + Ids.of(f.toArray(new String[0]));
  }

  /**
   * Scores the pending articles in batches of commit-every, several batches at once so every
   * executor slot stays busy; each batch is one Spark job (one task per article) whose output is
   * committed by renaming its temporary directory. After a failure no new batch starts, the running
   * ones finish and commit, and the failure is rethrown.
   */
  private static int runBatches(
      StageContext ctx,
      ScoreSettings s,
      EditScorerFactory f,
      WorkParts work,
      List<ScoreReuse.KeyedWork> pending,
      CollectionAccumulator<String> devices,
      List<String> written)
      throws Exception {
    if (pending.isEmpty()) {
      return 0;
    }
    List<List<ScoreReuse.KeyedWork>> batches = new ArrayList<>();
    for (int i = 0; i < pending.size(); i += s.commitEvery()) {
      batches.add(pending.subList(i, Math.min(pending.size(), i + s.commitEvery())));
    }
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(ctx.spark().sparkContext());
    int slots = Math.max(1, jsc.defaultParallelism());
    int threads = Math.min(batches.size(), (slots + s.commitEvery() - 1) / s.commitEvery() + 1);
    ScoreReuse.KeyedTask task = new ScoreReuse.KeyedTask(new ScoreTask(f, s, devices));
    ResourceProfile profile =
        GpuProfiles.forTasks(
            ctx.spark(), gpusPerTask(s.device()), "score", new HashMap<>(), ctx::say);
    AtomicBoolean failed = new AtomicBoolean();
    AtomicInteger committed = new AtomicInteger();
    AtomicInteger articlesDone = new AtomicInteger();
    ExecutorService pool =
        Executors.newFixedThreadPool(
            threads,
            r -> {
              Thread t = new Thread(r, "editforge-score-batch");
              t.setDaemon(true);
              return t;
            });
    List<Future<?>> futures = new ArrayList<>();
    try {
      for (int i = 0; i < batches.size(); i++) {
        List<ScoreReuse.KeyedWork> batch = batches.get(i);
        int index = i + 1;
        futures.add(
            pool.submit(
                () -> {
                  if (failed.get()) {
                    return null;
                  }
                  try {
                    Path part =
                        runBatch(
                            ctx,
                            jsc,
                            task,
                            profile,
                            work,
                            batch,
                            "score: batch " + index + "/" + batches.size());
                    synchronized (written) {
                      written.add(part.toString());
                    }
                  } catch (Exception | Error e) {
                    failed.set(true);
                    throw e;
                  }
                  int n = committed.incrementAndGet();
                  int a = articlesDone.addAndGet(batch.size());
                  ctx.say(
                      String.format(
                          Locale.ROOT,
                          "score: committed batch %d/%d (%,d of %,d articles)",
                          n,
                          batches.size(),
                          a,
                          pending.size()));
                  return null;
                }));
      }
      Throwable first = null;
      for (Future<?> fu : futures) {
        try {
          fu.get();
        } catch (ExecutionException e) {
          failed.set(true);
          if (first == null) {
            first = e.getCause();
          }
        }
      }
      if (first != null) {
        throw new IllegalStateException(
            String.format(
                Locale.ROOT,
                "score failed after committing %d of %d batches (%,d of %,d articles are kept in %s; "
                    + "rerun to resume from there): %s",
                committed.get(),
                batches.size(),
                articlesDone.get(),
                pending.size(),
                work.dir(),
                first.getMessage()),
            first);
      }
      return batches.size();
    } finally {
      pool.shutdownNow();
    }
  }

  private static Path runBatch(
      StageContext ctx,
      JavaSparkContext jsc,
      ScoreReuse.KeyedTask task,
      ResourceProfile profile,
      WorkParts work,
      List<ScoreReuse.KeyedWork> batch,
      String description) {
    jsc.setJobDescription(description);
    Path tmp = work.newTemp();
    Dataset<Row> df =
        ctx.spark()
            .createDataFrame(
                withProfile(jsc.parallelize(new ArrayList<>(batch), batch.size()), profile)
                    .flatMap(task),
                ScoreReuse.KEYED_SCHEMA);
    df.write().parquet(tmp.toString());
    return work.commit(
        tmp,
        partName(batch),
        String.join("\n", batch.stream().map(kw -> kw.work().articleId()).toList()) + "\n");
  }
}
