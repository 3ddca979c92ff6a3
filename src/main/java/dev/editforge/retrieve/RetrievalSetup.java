package dev.editforge.retrieve;

import com.fasterxml.jackson.databind.DeserializationFeature;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.editforge.config.EmbedSettings;
import dev.editforge.config.RetrieveSettings;
import dev.editforge.config.SettingsException;
import dev.editforge.io.Fingerprints;
import dev.editforge.io.Ids;
import dev.editforge.io.Rows;
import dev.editforge.io.RunDir;
import dev.editforge.io.StageTables;
import dev.editforge.io.Tables;
import dev.editforge.io.UnusableInputException;
import dev.editforge.lucene.IndexManifest;
import dev.editforge.lucene.IndexVerificationException;
import dev.editforge.spark.EncoderSpec;
import dev.editforge.spark.StageContext;
import dev.editforge.text.Json;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.functions;

/**
 * The driver side shared by {@code retrieve} and {@code evaluate-retrieval}: where the queries come
 * from, checking the index before any query runs, and fanning queries out to executors.
 */
public final class RetrievalSetup {
  private RetrievalSetup() {}

  /**
   * Queries ready for executors, the records that were not queries, and what identifies the input.
   */
  public record Queries(
      Dataset<Row> rows,
      long count,
      List<QueryReader.Reject> rejects,
      String sourceFile,
      String fingerprint) {}

  /**
   * Whether {@code spec} names a table of the run (only {@code articles} holds questions) rather
   * than a file.
   */
  public static boolean isTable(String spec) {
    return Tables.ARTICLES.equals(spec);
  }

  /**
   * Reads queries from a JSON/JSONL file (any Hadoop URI; malformed records become rejects with
   * their line numbers) or from the {@code articles} table's questions.
   */
  public static Queries load(StageContext ctx, String spec) {
    RunDir run = ctx.runDir();
    int parallelism = ctx.spark().sparkContext().defaultParallelism();
    if (isTable(spec)) {
      StageTables.requireVerified(run, spec, "retrieve");
      Dataset<Row> q =
          ctx.spark()
              .read()
              .parquet(run.tableUri(spec))
              .select(functions.explode(functions.col("questions")).as("q"))
              .select(
                  functions.col("q.question_id").as("query_id"),
                  functions.col("q.question").as("query"),
                  functions.col("q.answers").as("answers"))
              .filter(functions.length(functions.trim(functions.col("query"))).gt(0));
      Dataset<Row> rows =
          q.withColumn(
                  "source",
                  functions.to_json(
                      functions.struct(
                          functions.col("query_id").as("id"),
                          functions.col("query").as("question"),
                          functions.col("answers"))))
              .withColumn("ordinal", functions.monotonically_increasing_id())
              .withColumn("line", functions.lit(0L))
              .select("ordinal", "query_id", "query", "answers", "source", "line");
      rows = ctx.spark().createDataFrame(rows.javaRDD(), RetrieveFunctions.QUERY_SCHEMA);
      long n = rows.count();
      return new Queries(
          rows.repartition(
              Math.max(1, Math.min(parallelism, (int) Math.min(n, Integer.MAX_VALUE)))),
          n,
          List.of(),
          run.tableUri(spec),
          Fingerprints.ofTable(run, spec));
    }
    Path file = RunDir.qualify(spec);
    QueryReader.Result result;
    String fingerprint;
    try {
      FileSystem fs = file.getFileSystem(ctx.hadoopConf().get());
      if (!fs.isFile(file)) {
        throw new UnusableInputException("retrieve: query file " + spec + " does not exist");
      }
      fingerprint = Fingerprints.ofFile(fs, file);
      try (Reader r = new InputStreamReader(fs.open(file), StandardCharsets.UTF_8)) {
        result = QueryReader.read(r);
      }
    } catch (IOException e) {
      throw new UnusableInputException(
          "retrieve: cannot read query file " + spec + ": " + e.getMessage());
    }
    List<Row> rows = new ArrayList<>(result.queries().size());
    long ordinal = 0;
    for (QueryReader.Query q : result.queries()) {
      ObjectNode src = q.source();
      rows.add(
          RowFactory.create(
              ordinal++,
              q.id(),
              q.text(),
              q.answers() == null ? null : Rows.seq(q.answers()),
              src == null ? null : src.toString(),
              q.line()));
    }
    int parts = Math.max(1, Math.min(parallelism, rows.size()));
    Dataset<Row> ds =
        ctx.spark()
            .createDataFrame(
                JavaSparkContext.fromSparkContext(ctx.spark().sparkContext())
                    .parallelize(rows, parts),
                RetrieveFunctions.QUERY_SCHEMA);
    return new Queries(ds, rows.size(), result.rejects(), file.toString(), fingerprint);
  }

  /**
   * Checks the committed index before any query runs — present, every shard directory there,
   * checksums matching the manifest when {@code verify-index} is on (local run dirs; executors
   * verify their copy otherwise), vectors present for dense/hybrid, and the configured encoder's
   * dimension and preset matching the index — and says where executors find it.
   *
   * @throws IndexVerificationException naming the shard that is missing or altered
   */
  public static RetrieveFunctions.IndexLocation index(
      StageContext ctx, RetrieveSettings s, EmbedSettings embed) {
    RunDir run = ctx.runDir();
    if (!StageTables.isUsable(run, Tables.INDEX)) {
      throw UnusableInputException.table("retrieve", run, Tables.INDEX, "editforge index");
    }
    Path dir = run.table(Tables.INDEX);
    String json = run.readString(new Path(dir, IndexManifest.FILE_NAME));
    IndexManifest m;
    try {
      m =
          Json.MAPPER
              .readerFor(IndexManifest.class)
              .without(DeserializationFeature.FAIL_ON_UNKNOWN_PROPERTIES)
              .readValue(json);
    } catch (IOException e) {
      throw new IndexVerificationException(
          List.of(
              "unreadable index manifest "
                  + dir
                  + "/"
                  + IndexManifest.FILE_NAME
                  + ": "
                  + e.getMessage()));
    }
    List<String> missing = new ArrayList<>();
    for (IndexManifest.Shard sh : m.shards()) {
      if (!run.exists(new Path(dir, sh.dir()))) {
        missing.add("shard " + sh.shard() + " is missing: no directory " + new Path(dir, sh.dir()));
      }
    }
    if (!missing.isEmpty()) {
      throw new IndexVerificationException(missing);
    }
    boolean local = "file".equals(run.fs().getUri().getScheme());
    if (local && s.verifyIndex()) {
      m.verifyOrThrow(java.nio.file.Paths.get(dir.toUri()));
    }
    if (s.mode() != RetrieveSettings.Mode.BM25) {
      if (!m.hasVectors()) {
        throw new SettingsException(
            "editforge.retrieve.mode",
            s.mode().name().toLowerCase(),
            "bm25: the index at " + dir + " is BM25-only (built with index.vectors = false)");
      }
      int dim = EncoderSpec.modelDimension(embed);
      if (dim != m.dimension()) {
        throw new SettingsException(
            "retrieve: the query encoder "
                + embed.model()
                + " makes "
                + dim
                + "-dimensional vectors but the index at "
                + dir
                + " holds "
                + m.dimension()
                + " ("
                + m.model()
                + ")");
      }
      if (m.encoderPreset() != null && !m.encoderPreset().equals(embed.preset().name())) {
        throw new SettingsException(
            "retrieve: editforge.embed.preset = "
                + embed.preset().name()
                + " but the index was embedded with preset "
                + m.encoderPreset());
      }
    }
    // Executors trust a local index the driver just verified; a remote one is verified after the
    // copy.
    return new RetrieveFunctions.IndexLocation(
        dir.toString(),
        local,
        Ids.of(json),
        !local && s.verifyIndex(),
        s.globalBm25Stats(),
        ctx.hadoopConf());
  }

  /** Answers every query on executors; rows follow {@link RetrieveFunctions#OUTCOME_SCHEMA}. */
  public static Dataset<Row> retrieve(
      StageContext ctx,
      Queries q,
      RetrieveFunctions.IndexLocation index,
      RetrieveSettings s,
      EmbedSettings embed) {
    return ctx.spark()
        .createDataFrame(
            q.rows()
                .javaRDD()
                .mapPartitions(
                    new RetrieveFunctions.RetrievePartition(index, s, new EncoderSpec(embed))),
            RetrieveFunctions.OUTCOME_SCHEMA);
  }
}
