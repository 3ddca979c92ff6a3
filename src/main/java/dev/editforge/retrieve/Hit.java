package dev.editforge.retrieve;

/**
 * One retrieved passage with its score. Scores are raw similarities: BM25 for sparse search, cosine
 * / dot / inner product for dense search, the fused score for hybrid search.
 */
public record Hit(String passageId, String sourceId, String title, String text, double score) {
  /** The id Self-RAG's {@code ctxs[].id} carries: the input's own id when there is one. */
  public String selfRagId() {
    return sourceId != null ? sourceId : passageId;
  }
}
