package dev.editforge.embed;

import dev.editforge.config.EmbedSettings;
import dev.editforge.io.Fingerprints;
import dev.editforge.io.Manifest;
import dev.editforge.io.RowReuse;
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
import java.util.Optional;
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
    String configHash = Fingerprints.configHash(ctx.settings().section("embed"));
    String scope = rowScope(configHash, s, ctx.settings().codeVersion());
    return StagePlan.of(
        StageOutput.of(
            Tables.EMBEDDINGS,
            configHash,
            List.of(Fingerprints.ofTable(ctx.runDir(), Tables.PASSAGES)),
            out -> embed(out, new EncoderSpec(s), scope)));
  }

  /**
   * The part of every embedding's content key that is not the passage: the embed section, the
   * model's files (a retrained model in the same directory must not reuse old vectors) and the code
   * version. The per-row part is {@code passage_id}, the SHA-256 of the passage's source, id, title
   * and text, so a changed passage is a new key.
   */
  static String rowScope(String configHash, EmbedSettings s, String codeVersion) {
    String model =
        EmbedSettings.BUNDLED_MINILM.equals(s.model())
            ? "bundled:" + s.model()
            : Fingerprints.ofModel(s.model());
    return RowReuse.scope(STAGE, configHash, model, codeVersion);
  }

  private static void embed(StageOutput.Staged out, EncoderSpec spec, String scope) {
    StageContext ctx = out.context();
    RunDir run = ctx.runDir();
    ctx.spark().sparkContext().setJobDescription("embed passages");
    Manifest manifest = out.manifest();
    manifest.put(RowReuse.SCOPE, scope);
    Dataset<Row> passages =
        ctx.spark()
            .read()
            .parquet(run.tableUri(Tables.PASSAGES))
            .select("passage_id", "title", "text");
    // Read the previous table before it is replaced: the runner commits only after this returns.
    Optional<Manifest> previous =
        ctx.force() ? Optional.empty() : RowReuse.previous(run, Tables.EMBEDDINGS, scope);
    RowReuse.Plan reuse =
        previous.isPresent()
            ? RowReuse.plan(
                ctx.spark()
                    .read()
                    .parquet(run.tableUri(Tables.EMBEDDINGS))
                    .select("passage_id", "vector", "model"),
                passages,
                "passage_id")
            : RowReuse.none(passages, "passage_id", Tables.EMBEDDINGS_SCHEMA);
    Dataset<Row> reused = reuse.reused();
    JavaRDD<Row> in = reuse.toCompute().javaRDD();
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
          .unionByName(reused)
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
                  functions.countDistinct(functions.col("model")),
                  functions.max(functions.col("model")))
              .first();
      long computed = c.getLong(0);
      long computedOk = c.isNullAt(1) ? 0 : c.getLong(1);
      long truncated = c.isNullAt(2) ? 0 : c.getLong(2);
      RowReuse.Counts keys = previous.isPresent() ? reuse.counts() : new RowReuse.Counts(0, 0, 0);
      RowReuse.Counts split = new RowReuse.Counts(keys.reused(), computed, keys.removed());
      long reusedRows = split.reused();
      long input = computed + reusedRows;
      long ok = computedOk + reusedRows;
      String model =
          computed > 0
              ? c.getString(4)
              : reusedRows > 0 ? (String) previous.get().get("model") : null;
      manifest
          .count("input", input)
          .count("accepted", ok)
          .count("rejected", input - ok)
          .count("duplicates", 0)
          .count("output", ok)
          // of the computed rows only: a reused vector's truncation is not recorded per row
          .count("truncated", truncated);
      split.record(manifest);
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
              "embed: embeddings completed: %,d vectors (%s, %d dims; %,d reused, %,d computed, %,d"
                  + " removed), %,d rejected, %,d truncated of %,d passages -> %s",
              ok,
              model,
              dims,
              reusedRows,
              computed,
              manifest.count(RowReuse.REMOVED),
              input - ok,
              truncated,
              input,
              run.table(Tables.EMBEDDINGS)));
    } finally {
      outcomes.unpersist(false);
    }
  }
}
