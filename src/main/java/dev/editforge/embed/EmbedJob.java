package dev.editforge.embed;

import dev.editforge.config.EmbedSettings;
import dev.editforge.io.Fingerprints;
import dev.editforge.io.Manifest;
import dev.editforge.io.RunDir;
import dev.editforge.io.Tables;
import dev.editforge.spark.EncoderSpec;
import dev.editforge.spark.GpuProfiles;
import dev.editforge.spark.PipelineStage;
import dev.editforge.spark.StageContext;
import dev.editforge.spark.StageOutput;
import dev.editforge.spark.StagePlan;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.resource.ResourceProfile;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.storage.StorageLevel;

/**
 * {@code editforge embed}: {@code passages} → {@code embeddings} ({@code passage_id, vector,
 * model}). Each executor JVM loads the encoder once ({@link EncoderSpec#executorEncoder}) and its
 * tasks embed {@code title + " " + text} in length-sorted chunks. Empty texts and non-finite
 * vectors go to {@code embeddings/_rejects}; truncated passages are counted. A model whose
 * dimension disagrees with {@code editforge.embed.dimension} is refused before any work.
 */
public final class EmbedJob implements PipelineStage {
  public static final String STAGE = "embed";

  @Override
  public String name() {
    return STAGE;
  }

  @Override
  public List<String> requires() {
    return List.of(Tables.PASSAGES);
  }

  @Override
  public StagePlan plan(StageContext ctx) {
    EmbedSettings s = ctx.settings().embed();
    EncoderSpec.checkDimension(s);
    return StagePlan.of(
        StageOutput.of(
            Tables.EMBEDDINGS,
            Fingerprints.configHash(ctx.settings().section("embed")),
            List.of(Fingerprints.ofTable(ctx.runDir(), Tables.PASSAGES)),
            out -> embed(out, new EncoderSpec(s))));
  }

  private static void embed(StageOutput.Staged out, EncoderSpec spec) {
    StageContext ctx = out.context();
    RunDir run = ctx.runDir();
    ctx.spark().sparkContext().setJobDescription("embed passages");
    Manifest manifest = out.manifest();
    Dataset<Row> passages =
        ctx.spark()
            .read()
            .parquet(run.tableUri(Tables.PASSAGES))
            .select("passage_id", "title", "text");
    JavaRDD<Row> in = passages.javaRDD();
    int parallelism = ctx.spark().sparkContext().defaultParallelism();
    if (in.getNumPartitions() < parallelism) {
      in = in.repartition(parallelism);
    }
    // On a GPU (device gpu / gpu:N) embed asks for one per task through its own stage-level
    // profile, as the other GPU stages do; on the CPU its tasks hold none.
    Map<String, Object> note = new HashMap<>();
    ResourceProfile profile =
        GpuProfiles.forTasks(
            ctx.spark(), spec.settings().device().startsWith("gpu") ? 1 : 0, STAGE, note, ctx::say);
    manifest.put("resource_profile", note.get("resource_profile"));
    Dataset<Row> outcomes =
        ctx.spark()
            .createDataFrame(
                (profile == null ? in : in.withResources(profile))
                    .mapPartitions(new EmbedFunctions.EmbedPartition(spec)),
                EmbedFunctions.OUTCOME_SCHEMA)
            .persist(StorageLevel.MEMORY_AND_DISK());
    try {
      Dataset<Row> accepted = outcomes.filter(functions.col("reason").isNull());
      accepted
          .select("passage_id", "vector", "model")
          .orderBy("passage_id")
          .write()
          .parquet(out.uri());
      outcomes
          .filter(functions.col("reason").isNotNull())
          .select(
              functions.col("reason"),
              functions.lit(Tables.PASSAGES).as("source_file"),
              functions.lit(0L).as("line"),
              functions.col("record"))
          .coalesce(1)
          .write()
          .json(out.rejectsUri());

      Row c =
          outcomes
              .agg(
                  functions.count(functions.lit(1)),
                  functions.sum(functions.when(functions.col("reason").isNull(), 1).otherwise(0)),
                  functions.sum(functions.when(functions.col("truncated"), 1).otherwise(0)),
                  functions.countDistinct(functions.col("model")))
              .first();
      long input = c.getLong(0);
      long ok = c.isNullAt(1) ? 0 : c.getLong(1);
      long truncated = c.isNullAt(2) ? 0 : c.getLong(2);
      String model = input == 0 ? null : outcomes.select("model").first().getString(0);
      manifest
          .count("input", input)
          .count("accepted", ok)
          .count("rejected", input - ok)
          .count("duplicates", 0)
          .count("output", ok)
          .count("truncated", truncated);
      manifest.put("model", model);
      int dims = EncoderSpec.modelDimension(spec.settings());
      manifest.put("dimension", dims);
      manifest.put("max_length", spec.settings().maxLength());
      manifest.put("preset", spec.settings().preset().name());
      if (input == 0) {
        manifest.put("warning", "the passages table is empty");
      }
      out.summary(
          String.format(
              Locale.ROOT,
              "embed: embeddings completed: %,d vectors (%s, %d dims), %,d rejected, %,d truncated of %,d passages -> %s",
              ok,
              model,
              dims,
              input - ok,
              truncated,
              input,
              run.table(Tables.EMBEDDINGS)));
    } finally {
      outcomes.unpersist(false);
    }
  }
}
