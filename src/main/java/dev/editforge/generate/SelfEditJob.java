package dev.editforge.generate;

import static org.apache.spark.sql.functions.col;

import dev.editforge.config.SelfEditSettings;
import dev.editforge.io.Ids;
import dev.editforge.io.Manifest;
import dev.editforge.io.RunDir;
import dev.editforge.io.Tables;
import dev.editforge.io.WorkParts;
import dev.editforge.llm.SamplingParams;
import dev.editforge.spark.PipelineStage;
import dev.editforge.spark.StageContext;
import dev.editforge.spark.StageOutput;
import dev.editforge.spark.StagePlan;
import dev.editforge.text.SelfEditPrompts;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.FilterFunction;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;

/**
 * {@code editforge generate --what self-edits}: for every article, k completions of the self-edit
 * prompt ({@code generate.self-edit.prompt-key}, SEAL's {@code implications} by default) into the
 * {@code self_edits} table.
 *
 * <p>Each (article, sample) is one task with its own seed, {@code seed(generate.self-edit.seed,
 * article_id, prompt_key, sample_index)}, passed as {@link SamplingParams#seed()}: a sample's text
 * depends on nothing else, so a rerun reproduces it and a resumed run may generate any subset.
 * {@code edit_id = Ids.of(article_id, prompt_key, sample_index, seed, model)}.
 *
 * <p>Resume: rows of the committed table and of committed {@code _work/self_edits/} chunks are kept
 * when they have no error and match the current prompt, model and sampling; only the other
 * (article, sample) pairs are generated. A failed request or a blank completion (after {@code
 * empty-retries}) becomes a row with {@code error}, never a failed job, and is retried by the next
 * run. The stage skips itself when the articles, model and settings are unchanged and the last run
 * left no error rows.
 */
public final class SelfEditJob implements PipelineStage {
  public static final String STAGE = "generate";

  /** One (article, sample) to generate. */
  public record EditTask(
      String articleId, String promptKey, String prompt, int sampleIndex, long seed)
      implements Serializable {}

  @Override
  public String name() {
    return STAGE;
  }

  /** The seed of one (article, sample). */
  public static long taskSeed(long base, String articleId, String promptKey, int sampleIndex) {
    return BatchRunner.seed(base, "self-edit", articleId, promptKey, Integer.toString(sampleIndex));
  }

  public static String editId(
      String articleId, String promptKey, int sampleIndex, long seed, String model) {
    return Ids.of(articleId, promptKey, Integer.toString(sampleIndex), Long.toString(seed), model);
  }

  @Override
  public List<String> requires() {
    return List.of(Tables.ARTICLES);
  }

  @Override
  public StagePlan plan(StageContext ctx) {
    GenerateStage.Resolved resolved = GenerateStage.resolve(ctx);
    if (resolved.spec() == null) {
      return StagePlan.nothingToDo("self-edits: " + resolved.problem());
    }
    GeneratorSpec spec = resolved.spec();
    return StagePlan.of(
        GenerateStage.output(
            ctx,
            spec,
            "self-edits",
            "reasoning",
            Tables.SELF_EDITS,
            Tables.ARTICLES,
            out -> write(out, spec)));
  }

  /** Generates the missing (article, sample) pairs and writes kept + new rows into {@code out}. */
  static void write(StageOutput.Staged out, GeneratorSpec spec) {
    StageContext ctx = out.context();
    RunDir run = ctx.runDir();
    SelfEditSettings se = ctx.settings().selfEdit();
    String key = se.promptKey();
    String model = spec.modelName();
    WorkParts parts = GenerateStage.openWork(out, Tables.SELF_EDITS);
    Dataset<Row> articles = ctx.spark().read().parquet(run.tableUri(Tables.ARTICLES));
    Dataset<Row> taskDf = tasks(ctx, articles, se).persist(StorageLevel.MEMORY_AND_DISK());
    Dataset<Row> kept = null;
    try {
      kept =
          (ctx.force()
                  ? ctx.spark().createDataFrame(List.of(), Tables.SELF_EDITS_SCHEMA)
                  : kept(
                      GenerateStage.previous(
                          ctx, parts, Tables.SELF_EDITS, Tables.SELF_EDITS_SCHEMA),
                      taskDf,
                      se,
                      spec))
              .persist(StorageLevel.MEMORY_AND_DISK());
      long reused = kept.count();
      Dataset<Row> pendingDf =
          taskDf.join(
              kept.select(col("article_id"), col("sampling.sample_index").as("sample_index")),
              col("t_article_id")
                  .equalTo(col("article_id"))
                  .and(col("t_sample_index").equalTo(col("sample_index"))),
              "left_anti");
      JavaRDD<EditTask> pending =
          pendingDf
              .javaRDD()
              .map(
                  r ->
                      new EditTask(r.getString(0), key, r.getString(2), r.getInt(1), r.getLong(3)));
      long articlesCount = articles.count();
      long total = articlesCount * se.k();
      long toGenerate = total - reused;
      GenerateFunctions.Sampling sampling =
          new GenerateFunctions.Sampling(se.maxNewTokens(), se.temperature(), se.topP());
      Map<String, Object> note = GenerateStage.note();
      GenerateFunctions.Counters counters =
          GenerateFunctions.Counters.register(ctx.spark().sparkContext(), "self_edits");
      long t0 = System.nanoTime();
      List<String> chunks = List.of();
      if (toGenerate > 0) {
        ctx.say(
            String.format(
                Locale.ROOT,
                "generate: self_edits: %,d of %,d (article, sample) pairs to generate with %s (%s)%s",
                toGenerate,
                total,
                model,
                spec.backend(),
                reused > 0
                    ? String.format(Locale.ROOT, "; %,d kept from earlier runs", reused)
                    : ""));
        chunks =
            GenerateStage.generate(
                ctx,
                parts,
                Tables.SELF_EDITS,
                pending,
                toGenerate,
                GenerateFunctions.partition(
                    spec,
                    t ->
                        new BatchRunner.Job(
                            t.articleId() + "/" + t.sampleIndex(),
                            t.prompt(),
                            sampling.seeded(t.seed())),
                    (t, o) -> row(t, o, model, sampling),
                    counters),
                Tables.SELF_EDITS_SCHEMA,
                note);
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      Dataset<Row> result =
          kept.unionByName(GenerateStage.read(ctx, chunks, Tables.SELF_EDITS_SCHEMA));
      result.orderBy(col("article_id"), col("sampling.sample_index")).write().parquet(out.uri());
      Row counts =
          ctx.spark().read().parquet(out.uri()).selectExpr("count(*)", "count(error)").first();
      long output = counts.getLong(0);
      long errors = counts.getLong(1);
      Manifest m =
          out.manifest()
              .count("input", total)
              .count("accepted", output - errors)
              .count("rejected", errors)
              .count("duplicates", 0)
              .count("output", output)
              .count("articles", articlesCount)
              .count("errors", errors)
              .count("reused", reused)
              .count("generated", toGenerate)
              .count("completion_tokens", counters.completionTokens().value())
              .count("empty_retries", counters.emptyRetries().value())
              .count("oom_splits", counters.oomSplits().value());
      m.put("prompt_key", key);
      m.put("k", se.k());
      m.put("generator", spec.describe());
      if (spec.modelDir() != null) {
        // Which model wrote these edits (iterate's rounds each name another policy).
        m.put("model_dir", spec.modelDir());
      }
      m.put(
          "sampling",
          Map.of(
              "temperature",
              se.temperature(),
              "top_p",
              se.topP(),
              "max_new_tokens",
              se.maxNewTokens(),
              "seed",
              se.seed(),
              "seed_rule",
              "per (article, sample): seed(generate.self-edit.seed, article_id, prompt_key, sample_index)"));
      m.put("executors", counters.distinctBindings());
      note.forEach(m::put);
      m.put("generate_seconds", seconds);
      m.put("tokens_per_second", seconds > 0 ? counters.completionTokens().value() / seconds : 0.0);
      String status =
          GenerateStage.checkErrors(
              out,
              ctx.settings().generate().maxErrorFraction(),
              Tables.SELF_EDITS,
              errors,
              output,
              errors > 0 ? GenerateStage.firstError(ctx.spark().read().parquet(out.uri())) : null);
      out.summary(
          String.format(
              Locale.ROOT,
              "generate: self_edits %s: %,d rows for %,d articles (k = %d, prompt %s, model %s): %,d generated, %,d kept, "
                  + "%,d with errors -> %s",
              status,
              output,
              articlesCount,
              se.k(),
              key,
              model,
              toGenerate,
              reused,
              errors,
              run.table(Tables.SELF_EDITS)));
    } finally {
      if (kept != null) {
        kept.unpersist(false);
      }
      taskDf.unpersist(false);
    }
  }

  /** One row per (article, sample) to generate: t_article_id, t_sample_index, t_prompt, t_seed. */
  static Dataset<Row> tasks(StageContext ctx, Dataset<Row> articles, SelfEditSettings se) {
    String key = se.promptKey();
    Map<String, String> templates = new HashMap<>(se.templates());
    int k = se.k();
    long baseSeed = se.seed();
    JavaRDD<Row> rows =
        articles
            .select("article_id", "title", "context")
            .javaRDD()
            .flatMap(
                r -> {
                  String prompt =
                      new SelfEditPrompts(templates).render(key, r.getString(1), r.getString(2));
                  List<Row> ts = new ArrayList<>(k);
                  for (int s = 0; s < k; s++) {
                    ts.add(
                        RowFactory.create(
                            r.getString(0), s, prompt, taskSeed(baseSeed, r.getString(0), key, s)));
                  }
                  return ts.iterator();
                });
    return ctx.spark().createDataFrame(rows, TASK_SCHEMA);
  }

  private static final StructType TASK_SCHEMA =
      DataTypes.createStructType(
          List.of(
              DataTypes.createStructField("t_article_id", DataTypes.StringType, false),
              DataTypes.createStructField("t_sample_index", DataTypes.IntegerType, false),
              DataTypes.createStructField("t_prompt", DataTypes.StringType, false),
              DataTypes.createStructField("t_seed", DataTypes.LongType, false)));

  /**
   * Rows a rerun keeps: no error, same prompt (same article + template), model and sampling, and a
   * seed this task could have used (its own or an empty-retry seed); one per (article, sample).
   */
  static Dataset<Row> kept(
      Dataset<Row> previous, Dataset<Row> taskDf, SelfEditSettings se, GeneratorSpec spec) {
    int retries = spec.emptyRetries();
    Dataset<Row> prev =
        previous.filter(
            col("error")
                .isNull()
                .and(col("prompt_key").equalTo(se.promptKey()))
                .and(col("model").equalTo(spec.modelName()))
                .and(col("sampling.temperature").equalTo(se.temperature()))
                .and(col("sampling.top_p").equalTo(se.topP()))
                .and(col("sampling.top_k").equalTo(0))
                .and(col("sampling.max_new_tokens").equalTo(se.maxNewTokens())));
    Dataset<Row> joined =
        prev.join(
            taskDf,
            col("article_id")
                .equalTo(col("t_article_id"))
                .and(col("sampling.sample_index").equalTo(col("t_sample_index")))
                .and(col("prompt").equalTo(col("t_prompt"))));
    String[] names = Tables.SELF_EDITS_SCHEMA.fieldNames();
    return joined
        .filter(
            (FilterFunction<Row>)
                r -> {
                  long seed = r.getStruct(r.fieldIndex("sampling")).getLong(4);
                  long own = r.getLong(r.fieldIndex("t_seed"));
                  for (int a = 0; a <= retries; a++) {
                    if (BatchRunner.attemptSeed(own, a) == seed) {
                      return true;
                    }
                  }
                  return false;
                })
        .select(names[0], Arrays.copyOfRange(names, 1, names.length))
        .withColumn("_sample", col("sampling.sample_index"))
        .dropDuplicates("article_id", "_sample")
        .drop("_sample");
  }

  static Row row(
      EditTask t, BatchRunner.Outcome o, String model, GenerateFunctions.Sampling sampling) {
    Row s =
        RowFactory.create(
            sampling.temperature(),
            sampling.topP(),
            0,
            sampling.maxNewTokens(),
            o.seed(),
            t.sampleIndex());
    return RowFactory.create(
        editId(t.articleId(), t.promptKey(), t.sampleIndex(), o.seed(), model),
        t.articleId(),
        t.promptKey(),
        t.prompt(),
        o.text(),
        model,
        s,
        o.finishReason(),
        o.error());
  }
}
