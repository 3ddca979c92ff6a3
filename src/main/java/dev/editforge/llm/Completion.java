package dev.editforge.llm;

import java.util.List;

/** One sampled continuation: its text (stop string excluded), token ids and why it ended. */
public record Completion(
    String text, List<Integer> tokenIds, FinishReason finishReason, int completionTokens) {
  public Completion {
    tokenIds = tokenIds == null ? List.of() : List.copyOf(tokenIds);
  }
}
