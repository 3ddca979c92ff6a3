package dev.editforge.llm;

import java.util.List;

/**
 * What log-probabilities to return with each generated token: the {@code topK} most likely
 * alternatives and, whatever their rank, the {@code named} tokens (for example Self-RAG's
 * reflection tokens). A remote server only reports its top-k, so there a named token outside them
 * is absent.
 */
public record LogprobRequest(int topK, List<String> named) {
  public LogprobRequest {
    if (topK < 0) {
      throw new IllegalArgumentException("topK must be >= 0, got " + topK);
    }
    named = named == null ? List.of() : List.copyOf(named);
  }
}
