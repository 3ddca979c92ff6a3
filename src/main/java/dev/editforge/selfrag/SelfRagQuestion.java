package dev.editforge.selfrag;

import java.util.List;

/**
 * One question to answer the Self-RAG way, with its retrieved passages in rank order (the answerer
 * uses the first {@code ndocs}).
 */
public record SelfRagQuestion(String id, String instruction, List<Passage> passages)
    implements java.io.Serializable {
  public SelfRagQuestion {
    passages = List.copyOf(passages);
  }

  /** One retrieved passage. */
  public record Passage(String id, String title, String text) implements java.io.Serializable {}
}
