package dev.editforge.selfrag;

import java.util.Locale;

/** Self-RAG's retrieval modes: decide per question, always retrieve, or never retrieve. */
public enum RetrievalMode {
  ADAPTIVE,
  ALWAYS,
  NEVER;

  public String key() {
    return name().toLowerCase(Locale.ROOT);
  }

  /** The mode a config or CLI value names, or null. */
  public static RetrievalMode ofKey(String key) {
    for (RetrievalMode m : values()) {
      if (m.key().equals(key)) {
        return m;
      }
    }
    return null;
  }
}
