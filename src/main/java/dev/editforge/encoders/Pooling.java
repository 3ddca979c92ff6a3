package dev.editforge.encoders;

/** How per-token hidden states become one vector. */
public enum Pooling {
  /**
   * Average of the hidden states of real (non-padding) tokens: sentence-transformers, contriever,
   * e5.
   */
  MEAN,
  /** The hidden state of the first token ([CLS]): bge. */
  CLS
}
