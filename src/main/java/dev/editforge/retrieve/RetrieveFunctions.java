package dev.editforge.retrieve;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.editforge.config.RetrieveSettings;
import dev.editforge.encoders.EncodedBatch;
import dev.editforge.encoders.Encoder;
import dev.editforge.io.Rows;
import dev.editforge.io.Tables;
import dev.editforge.lucene.IndexManifest;
import dev.editforge.spark.EncoderSpec;
import dev.editforge.spark.ExecutorModelCache;
import dev.editforge.spark.HadoopConf;
import dev.editforge.text.Json;
import java.io.IOException;
import java.io.Serializable;
import java.io.StringWriter;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FileUtil;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/** The executor side of {@code editforge retrieve} and {@code evaluate-retrieval}. */
public final class RetrieveFunctions {
  private RetrieveFunctions() {}

  /** Queries as they travel to executors. {@code source} is the record as read (JSON). */
  public static final StructType QUERY_SCHEMA =
      DataTypes.createStructType(
          List.of(
              DataTypes.createStructField("ordinal", DataTypes.LongType, false),
              DataTypes.createStructField("query_id", DataTypes.StringType, false),
              DataTypes.createStructField("query", DataTypes.StringType, false),
              DataTypes.createStructField(
                  "answers", DataTypes.createArrayType(DataTypes.StringType, false), true),
              DataTypes.createStructField("source", DataTypes.StringType, true),
              DataTypes.createStructField("line", DataTypes.LongType, false)));

  /**
   * One answered query: the {@code retrievals} columns, the Self-RAG JSONL line, and what
   * evaluation needs (ranked Self-RAG ids, per-rank {@code hasanswer}, gold ids).
   */
  public static final StructType OUTCOME_SCHEMA =
      DataTypes.createStructType(
          List.of(
              DataTypes.createStructField("ordinal", DataTypes.LongType, false),
              DataTypes.createStructField("query_id", DataTypes.StringType, false),
              DataTypes.createStructField("query", DataTypes.StringType, false),
              DataTypes.createStructField(
                  "ctxs", DataTypes.createArrayType(Tables.CTX, false), false),
              DataTypes.createStructField("jsonl", DataTypes.StringType, false),
              DataTypes.createStructField(
                  "ids", DataTypes.createArrayType(DataTypes.StringType, false), false),
              DataTypes.createStructField(
                  "hasanswer", DataTypes.createArrayType(DataTypes.BooleanType, false), true),
              DataTypes.createStructField(
                  "gold", DataTypes.createArrayType(DataTypes.StringType, false), false)));

  /**
   * Where executors find the index: a local directory used in place (file: run dirs), or a Hadoop
   * URI copied once per executor JVM into a local temp directory. {@code key} names the index's
   * content (its manifest's hash), so a rebuilt index is reopened, not served stale.
   */
  public record IndexLocation(
      String uri,
      boolean local,
      String key,
      boolean verify,
      boolean globalBm25Stats,
      HadoopConf conf)
      implements Serializable {

    /** This JVM's open shards of the index (one per JVM, memory-mapped, shared by all tasks). */
    public ShardSet shards() {
      return ExecutorModelCache.get(
          new ExecutorModelCache.Key("index:" + uri, "local", "-", key),
          () -> {
            if (local) {
              return ShardSet.open(Paths.get(java.net.URI.create(uri)), verify, globalBm25Stats);
            }
            Path copy = copyToLocal();
            return ShardSet.open(copy, true, globalBm25Stats);
          });
    }

    private Path copyToLocal() {
      try {
        Path dir = Files.createTempDirectory("editforge-index-");
        org.apache.hadoop.fs.Path src = new org.apache.hadoop.fs.Path(uri);
        FileSystem fs = src.getFileSystem(conf.get());
        FileSystem raw = org.apache.hadoop.fs.FileSystem.getLocal(conf.get()).getRaw();
        for (org.apache.hadoop.fs.FileStatus st : fs.listStatus(src)) {
          String name = st.getPath().getName();
          if (name.startsWith("shard-") || name.equals(IndexManifest.FILE_NAME)) {
            FileUtil.copy(
                fs,
                st.getPath(),
                raw,
                new org.apache.hadoop.fs.Path(dir.resolve(name).toUri()),
                false,
                conf.get());
          }
        }
        dir.toFile().deleteOnExit();
        return dir;
      } catch (IOException e) {
        throw new UncheckedIOException("cannot copy the index " + uri + " to local disk", e);
      }
    }
  }

  /** Answers a partition of {@link #QUERY_SCHEMA} rows with the JVM's shards and encoder. */
  public static final class RetrievePartition implements FlatMapFunction<Iterator<Row>, Row> {
    private static final long serialVersionUID = 1L;
    private final IndexLocation index;
    private final RetrieveSettings settings;
    private final EncoderSpec encoder;

    public RetrievePartition(IndexLocation index, RetrieveSettings settings, EncoderSpec encoder) {
      this.index = index;
      this.settings = settings;
      this.encoder = encoder;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) throws IOException {
      if (!rows.hasNext()) {
        return java.util.Collections.emptyIterator();
      }
      // The Retriever is a view on the cached shards; it is never closed here (the cache owns
      // them).
      Retriever retriever = new Retriever(index.shards(), settings);
      Encoder enc = null;
      if (retriever.needsVectors()) {
        enc = encoder.executorEncoder();
        retriever.checkEncoder(enc);
      }
      List<Row> out = new ArrayList<>();
      List<Row> batch = new ArrayList<>(settings.queryBatchSize());
      while (rows.hasNext()) {
        batch.add(rows.next());
        if (batch.size() == settings.queryBatchSize() || !rows.hasNext()) {
          answer(retriever, enc, batch, out);
          batch.clear();
        }
      }
      return out.iterator();
    }
  }

  static void answer(Retriever retriever, Encoder enc, List<Row> batch, List<Row> out)
      throws IOException {
    float[][] vectors = new float[batch.size()][];
    if (enc != null) {
      List<String> texts = new ArrayList<>(batch.size());
      for (Row r : batch) {
        texts.add(r.getString(2));
      }
      EncodedBatch b = enc.encode(texts, Encoder.Role.QUERY);
      vectors = b.vectors();
    }
    for (int i = 0; i < batch.size(); i++) {
      Row r = batch.get(i);
      QueryReader.Query q = query(r);
      List<Hit> hits =
          enc != null && vectors[i] == null ? List.of() : retriever.search(q.text(), vectors[i]);
      List<Row> ctxs = new ArrayList<>(hits.size());
      List<String> ids = new ArrayList<>(hits.size());
      List<Boolean> has = q.answers() == null ? null : new ArrayList<>(hits.size());
      for (int rank = 0; rank < hits.size(); rank++) {
        Hit h = hits.get(rank);
        ctxs.add(
            RowFactory.create(
                h.passageId(),
                h.sourceId() == null ? h.passageId() : h.sourceId(),
                h.title(),
                h.text(),
                h.score(),
                rank + 1));
        ids.add(h.selfRagId());
        if (has != null) {
          has.add(AnswerMatch.hasAnswer(q.answers(), h.text()));
        }
      }
      StringWriter line = new StringWriter();
      new SelfRagJsonlWriter(line).write(q, hits);
      String jsonl = line.toString();
      if (jsonl.endsWith("\n")) {
        jsonl = jsonl.substring(0, jsonl.length() - 1);
      }
      out.add(
          RowFactory.create(
              r.getLong(0),
              q.id(),
              q.text(),
              Rows.seq(ctxs),
              jsonl,
              Rows.seq(ids),
              has == null ? null : Rows.seq(has),
              Rows.seq(new ArrayList<>(gold(q.source())))));
    }
  }

  static QueryReader.Query query(Row r) throws IOException {
    List<String> answers = r.isNullAt(3) ? null : r.getList(3);
    ObjectNode source = r.isNullAt(4) ? null : (ObjectNode) Json.MAPPER.readTree(r.getString(4));
    return new QueryReader.Query(r.getString(1), r.getString(2), answers, source, r.getLong(5));
  }

  /**
   * Gold passage ids of a query, in Self-RAG id space (DPR ids): DPR's {@code
   * positive_ctxs[].passage_id} and an explicit {@code gold_ids} list.
   */
  static Set<String> gold(ObjectNode source) {
    Set<String> gold = new LinkedHashSet<>();
    if (source == null) {
      return gold;
    }
    for (JsonNode c : source.path("positive_ctxs")) {
      String id = c.path("passage_id").asText("");
      if (!id.isEmpty()) {
        gold.add(id);
      }
    }
    for (JsonNode g : source.path("gold_ids")) {
      gold.add(g.asText());
    }
    return gold;
  }
}
