package dev.editforge.llm;

/**
 * The outcome of one request generated with log-probabilities: its first completion and the
 * per-token log-probabilities behind it, or an {@code error} (this request only).
 */
public record LogprobResult(
    String requestId, Completion completion, TokenLogprobs logprobs, String error) {
  public static LogprobResult failed(String requestId, String error) {
    return new LogprobResult(requestId, null, null, error);
  }

  public boolean ok() {
    return error == null;
  }

  public String text() {
    return completion == null ? "" : completion.text();
  }
}
