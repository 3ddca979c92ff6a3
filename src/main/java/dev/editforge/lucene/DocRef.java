package dev.editforge.lucene;

import java.util.Comparator;

/**
 * A scored document before its stored fields are read: which shard, which Lucene doc id there, and
 * the score. Cheap to produce in the hundreds per query; only the final top-k become hits.
 */
public record DocRef(int shard, int doc, double score) {
  /** Best first; ties broken by shard then doc id so results never depend on thread timing. */
  public static final Comparator<DocRef> BEST_FIRST =
      Comparator.comparingDouble(DocRef::score)
          .reversed()
          .thenComparingInt(DocRef::shard)
          .thenComparingInt(DocRef::doc);

  /** Identity of the document regardless of score (fusion joins on it). */
  public long key() {
    return ((long) shard << 32) | (doc & 0xffffffffL);
  }

  public DocRef withScore(double s) {
    return new DocRef(shard, doc, s);
  }
}
