package dev.editforge.llm;

import java.util.List;

/**
 * The outcome of one {@link GenerationRequest}: {@code n} completions, or an {@code error} (for
 * example a prompt longer than the context window, or a remote call that failed after its retries)
 * with no completions. An error concerns this request only; the rest of the batch goes on.
 */
public record GenerationResult(
    String requestId, List<Completion> completions, int promptTokens, String error) {
  public GenerationResult {
    completions = completions == null ? List.of() : List.copyOf(completions);
  }

  public static GenerationResult failed(String requestId, String error) {
    return new GenerationResult(requestId, List.of(), 0, error);
  }

  public boolean ok() {
    return error == null;
  }
}
