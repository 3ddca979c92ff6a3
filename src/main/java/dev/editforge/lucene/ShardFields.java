package dev.editforge.lucene;

/** Field names inside a shard; the retrieve package reads documents by these. */
public final class ShardFields {
  private ShardFields() {}

  /** Stored and indexed as one token: the passage's stable id (deduplication key). */
  public static final String PASSAGE_ID = "passage_id";

  /** Stored: the input's own id (e.g. the DPR id), what Self-RAG's {@code ctxs[].id} holds. */
  public static final String SOURCE_ID = "source_id";

  /** Stored. */
  public static final String TITLE = "title";

  /** Stored. */
  public static final String TEXT = "text";

  /** Indexed, not stored: {@code title + "\n" + text}, the BM25 field. */
  public static final String BODY = "body";

  /** The dense vector (HNSW). */
  public static final String VECTOR = "vector";
}
