package dev.editforge.encoders;

/**
 * How two embedding vectors are compared. The names follow Lucene's vector similarity functions so
 * an index can be built to match its encoder.
 *
 * <ul>
 *   <li>{@link #COSINE}: angle only; safe for any vectors.
 *   <li>{@link #DOT_PRODUCT}: raw dot product, valid only for unit-length vectors (Lucene's
 *       DOT_PRODUCT assumes it and is cheaper than cosine because it skips the norms).
 *   <li>{@link #MAXIMUM_INNER_PRODUCT}: raw inner product of unnormalized vectors, what contriever
 *       and contriever-msmarco were trained for.
 * </ul>
 */
public enum VectorSimilarity {
  COSINE,
  DOT_PRODUCT,
  MAXIMUM_INNER_PRODUCT;

  /** Whether this similarity is only meaningful for unit-length vectors. */
  public boolean requiresUnitVectors() {
    return this == DOT_PRODUCT;
  }

  /** The raw similarity of two vectors of equal length, as a brute-force reference would rank. */
  public double compare(float[] a, float[] b) {
    if (a.length != b.length) {
      throw new IllegalArgumentException("vector lengths differ: " + a.length + " vs " + b.length);
    }
    double dot = 0;
    double na = 0;
    double nb = 0;
    for (int i = 0; i < a.length; i++) {
      dot += (double) a[i] * b[i];
      na += (double) a[i] * a[i];
      nb += (double) b[i] * b[i];
    }
    if (this == COSINE) {
      double denom = Math.sqrt(na) * Math.sqrt(nb);
      return denom == 0 ? 0 : dot / denom;
    }
    return dot;
  }

  /** The lower-case, dash-separated name used in config and manifests. */
  public String configName() {
    return name().toLowerCase().replace('_', '-');
  }

  public static VectorSimilarity fromConfigName(String name) {
    for (VectorSimilarity s : values()) {
      if (s.configName().equals(name)) {
        return s;
      }
    }
    throw new IllegalArgumentException(
        "unknown vector similarity \""
            + name
            + "\": expected cosine, dot-product or maximum-inner-product");
  }
}
