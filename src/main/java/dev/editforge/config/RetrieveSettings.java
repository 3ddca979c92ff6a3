package dev.editforge.config;

import dev.editforge.lucene.Fusion;

/**
 * How queries are answered ({@code editforge.retrieve}).
 *
 * @param k passages returned per query
 * @param mode bm25, dense or hybrid
 * @param fusion how hybrid combines the two rankings
 * @param rrfConstant the c of {@code 1 / (c + rank)}
 * @param denseWeight weight of the dense list in linear fusion
 * @param candidates depth of each ranking before fusion and of the HNSW search (at least k is used)
 * @param globalBm25Stats score BM25 with corpus-wide statistics across shards
 * @param verifyIndex checksum every shard against the manifest before searching
 * @param queryBatchSize queries embedded per encoder call
 */
public record RetrieveSettings(
    int k,
    Mode mode,
    Fusion.Mode fusion,
    int rrfConstant,
    double denseWeight,
    int candidates,
    boolean globalBm25Stats,
    boolean verifyIndex,
    int queryBatchSize)
    implements java.io.Serializable {

  public enum Mode {
    BM25,
    DENSE,
    HYBRID
  }

  public RetrieveSettings {
    if (k < 1 || candidates < 1 || queryBatchSize < 1) {
      throw new IllegalArgumentException("k, candidates and query batch size must be >= 1");
    }
  }

  public static RetrieveSettings defaults() {
    return new RetrieveSettings(20, Mode.HYBRID, Fusion.Mode.RRF, 60, 0.5, 100, true, true, 64);
  }

  public RetrieveSettings withMode(Mode m) {
    return new RetrieveSettings(
        k,
        m,
        fusion,
        rrfConstant,
        denseWeight,
        candidates,
        globalBm25Stats,
        verifyIndex,
        queryBatchSize);
  }

  public RetrieveSettings withK(int newK) {
    return new RetrieveSettings(
        newK,
        mode,
        fusion,
        rrfConstant,
        denseWeight,
        candidates,
        globalBm25Stats,
        verifyIndex,
        queryBatchSize);
  }

  public Fusion fusionFunction() {
    return new Fusion(fusion, rrfConstant, denseWeight);
  }

  public static RetrieveSettings from(ConfigReader r) {
    int k = r.integer("k", 1, 10_000);
    int candidates = r.integer("candidates", 1, 10_000);
    if (candidates < k) {
      throw new SettingsException(
          r.full("candidates"), candidates, "must be >= retrieve.k (" + k + ")");
    }
    return new RetrieveSettings(
        k,
        r.enumValue("mode", Mode.class),
        r.enumValue("fusion", Fusion.Mode.class),
        r.integer("rrf-k", 0, 100_000),
        r.number("dense-weight", 0.0, 1.0),
        candidates,
        r.bool("global-bm25-stats"),
        r.bool("verify-index"),
        r.integer("query-batch-size", 1, 100_000));
  }
}
