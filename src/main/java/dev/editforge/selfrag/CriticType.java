package dev.editforge.selfrag;

/**
 * The five questions a Self-RAG critic answers; {@link #wireName()} is the {@code type} column of
 * {@code critic_labels}.
 */
public enum CriticType {
  /** Does the instruction need retrieval at all? ([Retrieval] / [No Retrieval]) */
  RETRIEVAL("retrieval"),
  /** Does sentence k > 0 need new evidence, given the preceding sentences and the top passage? */
  MULTI_RETRIEVAL("multi_retrieval"),
  /** Is a passage relevant to the instruction? ([Relevant] / [Irrelevant]) */
  RELEVANCE("relevance"),
  /** Does a passage support a sentence? (IsSup) */
  SUPPORT("support"),
  /** How useful is the whole output? ([Utility:1..5]) */
  UTILITY("utility");

  private final String wire;

  CriticType(String wire) {
    this.wire = wire;
  }

  public String wireName() {
    return wire;
  }

  public static CriticType fromWire(String s) {
    for (CriticType t : values()) {
      if (t.wire.equals(s)) {
        return t;
      }
    }
    throw new IllegalArgumentException("unknown critic type \"" + s + "\"");
  }
}
