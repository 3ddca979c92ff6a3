package dev.editforge.index;

import dev.editforge.config.EmbedSettings;
import dev.editforge.config.IndexSettings;
import dev.editforge.encoders.VectorSimilarity;
import dev.editforge.io.Fingerprints;
import dev.editforge.io.Manifest;
import dev.editforge.io.RowReuse;
import dev.editforge.io.RunDir;
import dev.editforge.io.StageTables;
import dev.editforge.io.Tables;
import dev.editforge.io.UnusableInputException;
import dev.editforge.lucene.IndexManifest;
import dev.editforge.spark.PipelineStage;
import dev.editforge.spark.StageContext;
import dev.editforge.spark.StageOutput;
import dev.editforge.spark.StagePlan;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.storage.StorageLevel;

/**
 * {@code editforge index}: {@code passages} (+ {@code embeddings}) → {@code <run-dir>/index/}.
 * Passages are routed by {@link ShardAssigner} (SHA-256 of passage_id), so a rebuild puts every
 * passage in the same shard; each task writes one shard with {@link ShardWriter} on its local disk
 * and copies it into the staging directory through the Hadoop FileSystem API; the driver writes
 * {@code manifest.json} from the tasks' {@link ShardWriter.ShardStats} and commits the whole
 * directory by rename, like a table. Passages without a vector go to {@code index/_rejects}.
 */
public final class IndexJob implements PipelineStage {
  public static final String STAGE = "index";

  /**
   * Under the index directory: the passage ids the shards hold (Parquet), what the next run diffs
   * its input against to update the shards in place.
   */
  public static final String PASSAGE_IDS = "passage_ids";

  private final boolean rebuild;

  public IndexJob() {
    this(false);
  }

  /**
   * @param rebuild build every shard from scratch even when the previous index could be updated in
   *     place ({@code --rebuild}); also rewrites an index that is up to date
   */
  public IndexJob(boolean rebuild) {
    this.rebuild = rebuild;
  }

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
    RunDir run = ctx.runDir();
    IndexSettings s = ctx.settings().index();
    if (s.vectors() && !StageTables.isUsable(run, Tables.EMBEDDINGS)) {
      throw UnusableInputException.table(
          STAGE, run, Tables.EMBEDDINGS, Tables.producer(Tables.EMBEDDINGS));
    }
    List<String> inputs = new ArrayList<>(List.of(Fingerprints.ofTable(run, Tables.PASSAGES)));
    String vectorsScope = "bm25-only";
    if (s.vectors()) {
      String embeddings = Fingerprints.ofTable(run, Tables.EMBEDDINGS);
      inputs.add(embeddings);
      String preset = ctx.settings().embed().preset().name();
      inputs.add("preset=" + preset);
      Object embedScope =
          run.manifest(Tables.EMBEDDINGS).map(m -> m.get(RowReuse.SCOPE)).orElse(null);
      // Embeddings without a row scope (written before row reuse) tie the index to that exact
      // table: any rewrite of it rebuilds.
      vectorsScope =
          "preset=" + preset + ";" + (embedScope != null ? embedScope.toString() : embeddings);
    }
    String configHash = Fingerprints.configHash(ctx.settings().section("index"));
    String scope = RowReuse.scope(STAGE, configHash, vectorsScope, ctx.settings().codeVersion());
    boolean full = rebuild;
    return StagePlan.of(
        StageOutput.of(Tables.INDEX, configHash, inputs, out -> build(out, s, scope, full))
            .reusableWhen(m -> !full));
  }

  /**
   * Updates the previous index in place when its scope is this run's: same index settings (shard
   * count, analyzer, similarity, HNSW, quantization), same encoder (its model files, embed settings
   * and code version, through the embeddings' row scope) and same code; otherwise, or with {@code
   * --rebuild} or {@code --force}, builds every shard from scratch.
   */
  private static void build(
      StageOutput.Staged out, IndexSettings s, String scope, boolean rebuild) {
    StageContext ctx = out.context();
    RunDir run = ctx.runDir();
    Manifest manifest = out.manifest();
    manifest.put(RowReuse.SCOPE, scope);
    Path previousIds = new Path(run.table(Tables.INDEX), PASSAGE_IDS);
    String fullBecause =
        rebuild
            ? "--rebuild"
            : ctx.force()
                ? "--force"
                : run.manifest(Tables.INDEX).isEmpty()
                    ? "no previous index"
                    : RowReuse.previous(run, Tables.INDEX, scope).isEmpty()
                            || !run.exists(previousIds)
                        ? "the previous index has other settings, encoder or code, or is damaged"
                        : null;
    boolean incremental = fullBecause == null;
    manifest.put("build", incremental ? "incremental" : "full");
    if (!incremental) {
      manifest.put("full_build_reason", fullBecause);
    }
    ctx.spark()
        .sparkContext()
        .setJobDescription(
            (incremental ? "update the index's " : "index passages into ")
                + s.shards()
                + " shards");
    Dataset<Row> passages =
        ctx.spark()
            .read()
            .parquet(run.tableUri(Tables.PASSAGES))
            .select("passage_id", "source_id", "title", "text");
    Dataset<Row> joined;
    EncoderInfo encoder = null;
    if (s.vectors()) {
      Dataset<Row> emb = ctx.spark().read().parquet(run.tableUri(Tables.EMBEDDINGS));
      List<Row> models = emb.select("model").distinct().limit(2).collectAsList();
      if (models.size() > 1) {
        throw new UnusableInputException(
            "index: the embeddings table mixes models ("
                + models.get(0).getString(0)
                + ", "
                + models.get(1).getString(0)
                + "); rerun `editforge embed --force`");
      }
      joined =
          passages
              .join(emb.select("passage_id", "vector"), "passage_id", "left")
              .select("passage_id", "source_id", "title", "text", "vector");
      if (!models.isEmpty()) {
        int dim = emb.select(functions.size(functions.col("vector"))).first().getInt(0);
        EmbedSettings es = ctx.settings().embed();
        VectorSimilarity sim =
            s.resolveSimilarity(es.preset().similarity(), es.preset().normalize());
        encoder = new EncoderInfo(models.get(0).getString(0), es.preset().name(), dim, sim);
      }
    } else {
      joined =
          passages
              .withColumn("vector", functions.lit(null).cast("array<float>"))
              .select("passage_id", "source_id", "title", "text", "vector");
    }
    joined = joined.persist(StorageLevel.MEMORY_AND_DISK());
    try {
      Dataset<Row> usable =
          s.vectors() ? joined.filter(functions.col("vector").isNotNull()) : joined;
      Dataset<Row> missing =
          s.vectors() ? joined.filter(functions.col("vector").isNull()) : joined.limit(0);
      Path staging = out.path();
      int dim = encoder == null ? 1 : encoder.dimension();
      VectorSimilarity sim = encoder == null ? VectorSimilarity.COSINE : encoder.similarity();
      IndexSettings effective = s.vectors() && encoder == null ? withoutVectors(s) : s;
      Dataset<Row> changes = usable;
      RowReuse.Counts split;
      if (incremental) {
        RowReuse.Plan plan =
            RowReuse.plan(ctx.spark().read().parquet(previousIds.toString()), usable, "passage_id");
        split = plan.counts();
        // A changed passage has a new id (ids hash the content), so a change is an add of the new
        // id and a delete of the old one.
        changes =
            plan.toCompute()
                .withColumn("deleted", functions.lit(false))
                .unionByName(
                    plan.removed()
                        .select(
                            functions.col("passage_id"),
                            functions.lit(null).cast("string").as("source_id"),
                            functions.lit(null).cast("string").as("title"),
                            functions.lit(null).cast("string").as("text"),
                            functions.lit(null).cast("array<float>").as("vector"),
                            functions.lit(true).as("deleted")));
      } else {
        split = null;
      }
      List<IndexFunctions.ShardResult> results =
          new ArrayList<>(
              changes
                  .javaRDD()
                  .mapToPair(new IndexFunctions.KeyByShard(s.shards()))
                  .partitionBy(new IndexFunctions.ShardPartitioner(s.shards()))
                  .mapPartitionsWithIndex(
                      new IndexFunctions.WriteShard(
                          effective,
                          dim,
                          sim,
                          staging.toString(),
                          incremental ? run.tableUri(Tables.INDEX) : null,
                          ctx.hadoopConf()),
                      false)
                  .collect());
      results.sort(Comparator.comparingInt(IndexFunctions.ShardResult::shard));
      List<ShardWriter.ShardStats> stats =
          results.stream().map(IndexFunctions.ShardResult::stats).toList();
      IndexManifest im = IndexBuilder.manifest(effective, encoder, stats);
      run.writeString(new Path(staging, IndexManifest.FILE_NAME), im.toJson());
      usable
          .select("passage_id")
          .orderBy("passage_id")
          .write()
          .parquet(new Path(staging, PASSAGE_IDS).toString());

      missing
          .select(
              functions.lit("no embedding (see embeddings/_rejects)").as("reason"),
              functions.lit(Tables.PASSAGES).as("source_file"),
              functions.lit(0L).as("line"),
              functions.col("passage_id").as("record"))
          .coalesce(1)
          .write()
          .json(out.rejectsUri());
      long input = joined.count();
      long rejected = missing.count();
      long docs = im.docs();
      long duplicates = input - rejected - docs;
      manifest
          .count("input", input)
          .count("accepted", docs)
          .count("rejected", rejected)
          .count("duplicates", duplicates)
          .count("output", docs)
          .count("shards", im.shardCount())
          .count("bytes", stats.stream().mapToLong(ShardWriter.ShardStats::bytes).sum());
      (split != null ? split : new RowReuse.Counts(0, docs, 0)).record(manifest);
      manifest.put("docs_per_shard", stats.stream().map(ShardWriter.ShardStats::docs).toList());
      manifest.put("model", encoder == null ? null : encoder.model());
      out.summary(
          String.format(
              Locale.ROOT,
              "index: %,d passages in %d shards (%s), %,d without a vector, %s -> %s",
              docs,
              im.shardCount(),
              encoder == null
                  ? "BM25 only"
                  : encoder.model()
                      + " "
                      + encoder.dimension()
                      + "d "
                      + encoder.similarity().configName(),
              rejected,
              split != null
                  ? String.format(
                      Locale.ROOT,
                      "updated in place: %,d added, %,d removed, %,d kept",
                      split.computed(),
                      split.removed(),
                      split.reused())
                  : "full build (" + fullBecause + ")",
              run.table(Tables.INDEX)));
    } finally {
      joined.unpersist(false);
    }
  }

  private static IndexSettings withoutVectors(IndexSettings s) {
    return new IndexSettings(
        s.shards(),
        s.analyzer(),
        s.bm25K1(),
        s.bm25B(),
        false,
        s.vectorSimilarity(),
        s.hnswM(),
        s.hnswBeamWidth(),
        s.quantization(),
        s.mergeSegments(),
        s.mergeThreads(),
        s.ramBufferMb());
  }
}
