package dev.editforge.config;

import dev.editforge.encoders.VectorSimilarity;
import dev.editforge.lucene.TextAnalyzer;
import dev.editforge.lucene.VectorQuantization;
import java.util.List;
import org.apache.lucene.codecs.lucene99.Lucene99HnswVectorsFormat;

/**
 * How retrieval shards are built ({@code editforge.index}).
 *
 * @param shards number of shards passages are hashed into
 * @param analyzer analyzer of the BM25 field (title + text)
 * @param bm25K1 BM25 term-frequency saturation
 * @param bm25B BM25 length normalization
 * @param vectors whether to index dense vectors (false builds BM25-only shards)
 * @param vectorSimilarity null means "take the encoder's"; otherwise must be compatible with it
 * @param hnswM HNSW max connections per node
 * @param hnswBeamWidth HNSW candidate list size while building the graph
 * @param quantization vector storage
 * @param mergeSegments segments per shard after the final force-merge (1 searches fastest)
 * @param mergeThreads threads that build the HNSW graph during merges (1 = the merging thread)
 * @param ramBufferMb indexing buffer before a segment is flushed; large enough for a whole shard
 *     avoids building HNSW graphs twice
 */
public record IndexSettings(
    int shards,
    TextAnalyzer analyzer,
    float bm25K1,
    float bm25B,
    boolean vectors,
    VectorSimilarity vectorSimilarity,
    int hnswM,
    int hnswBeamWidth,
    VectorQuantization quantization,
    int mergeSegments,
    int mergeThreads,
    double ramBufferMb)
    implements java.io.Serializable {

  public IndexSettings {
    if (shards < 1) {
      throw new IllegalArgumentException("shards must be >= 1");
    }
    if (hnswM < 2 || hnswM > Lucene99HnswVectorsFormat.MAXIMUM_MAX_CONN) {
      throw new IllegalArgumentException(
          "hnsw M must be in [2, " + Lucene99HnswVectorsFormat.MAXIMUM_MAX_CONN + "]");
    }
    if (hnswBeamWidth < 1 || hnswBeamWidth > Lucene99HnswVectorsFormat.MAXIMUM_BEAM_WIDTH) {
      throw new IllegalArgumentException(
          "hnsw beam width must be in [1, " + Lucene99HnswVectorsFormat.MAXIMUM_BEAM_WIDTH + "]");
    }
    if (mergeSegments < 1 || mergeThreads < 1 || ramBufferMb <= 0) {
      throw new IllegalArgumentException(
          "merge segments, merge threads and RAM buffer must be positive");
    }
  }

  /**
   * DESIGN's measured configuration: English BM25 (1.2, 0.75), HNSW M=16 beam 100, fp32, one
   * segment.
   */
  public static IndexSettings defaults(int shards) {
    return new IndexSettings(
        shards,
        TextAnalyzer.ENGLISH,
        1.2f,
        0.75f,
        true,
        null,
        16,
        100,
        VectorQuantization.NONE,
        1,
        1,
        256);
  }

  public IndexSettings withShards(int n) {
    return new IndexSettings(
        n,
        analyzer,
        bm25K1,
        bm25B,
        vectors,
        vectorSimilarity,
        hnswM,
        hnswBeamWidth,
        quantization,
        mergeSegments,
        mergeThreads,
        ramBufferMb);
  }

  public IndexSettings withQuantization(VectorQuantization q) {
    return new IndexSettings(
        shards,
        analyzer,
        bm25K1,
        bm25B,
        vectors,
        vectorSimilarity,
        hnswM,
        hnswBeamWidth,
        q,
        mergeSegments,
        mergeThreads,
        ramBufferMb);
  }

  public IndexSettings withAnalyzer(TextAnalyzer a) {
    return new IndexSettings(
        shards,
        a,
        bm25K1,
        bm25B,
        vectors,
        vectorSimilarity,
        hnswM,
        hnswBeamWidth,
        quantization,
        mergeSegments,
        mergeThreads,
        ramBufferMb);
  }

  /**
   * The similarity the shards index with, given the encoder's. An explicit setting may only trade
   * cosine for dot-product on normalized vectors (same ranking, cheaper); anything else would rank
   * by a measure the encoder was not trained for.
   */
  public VectorSimilarity resolveSimilarity(VectorSimilarity encoder, boolean encoderNormalizes) {
    if (vectorSimilarity == null || vectorSimilarity == encoder) {
      return encoder;
    }
    boolean unitVectors = encoderNormalizes;
    boolean swapOk =
        unitVectors
            && (vectorSimilarity == VectorSimilarity.DOT_PRODUCT
                || vectorSimilarity == VectorSimilarity.COSINE)
            && (encoder == VectorSimilarity.DOT_PRODUCT || encoder == VectorSimilarity.COSINE);
    if (!swapOk) {
      throw new IllegalArgumentException(
          "index vector similarity "
              + vectorSimilarity.configName()
              + " does not match the encoder's "
              + encoder.configName()
              + (unitVectors ? "" : " (its vectors are not normalized)"));
    }
    return vectorSimilarity;
  }

  public static IndexSettings from(ConfigReader r) {
    String sim = r.string("vector-similarity");
    VectorSimilarity similarity = null;
    if (!sim.equals("auto")) {
      try {
        similarity = VectorSimilarity.fromConfigName(sim);
      } catch (IllegalArgumentException e) {
        throw new SettingsException(
            r.full("vector-similarity"),
            sim,
            "must be one of auto, cosine, dot-product, maximum-inner-product");
      }
    }
    return new IndexSettings(
        r.integer("shards", 1, 100_000),
        TextAnalyzer.valueOf(r.oneOf("analyzer", List.of("english", "standard")).toUpperCase()),
        (float) r.number("bm25.k1", 0.0, 10.0),
        (float) r.number("bm25.b", 0.0, 1.0),
        r.bool("vectors"),
        similarity,
        r.integer("hnsw.m", 2, Lucene99HnswVectorsFormat.MAXIMUM_MAX_CONN),
        r.integer("hnsw.beam-width", 1, Lucene99HnswVectorsFormat.MAXIMUM_BEAM_WIDTH),
        r.enumValue("quantization", VectorQuantization.class),
        r.integer("merge-segments", 1, 1000),
        r.integer("merge-threads", 1, 256),
        r.number("ram-buffer-mb", 1.0, 65536.0));
  }
}
