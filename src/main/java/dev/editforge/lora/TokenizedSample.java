package dev.editforge.lora;

/**
 * One tokenized SFT example: token ids and labels of the same length, label {@value #IGNORE} where
 * no loss is taken (prompt tokens under completion-only loss). Causal-LM convention: the logits at
 * position t are scored against {@code labels[t + 1]}, so {@code labels[0]} never counts.
 */
public record TokenizedSample(int[] inputIds, int[] labels) {
  public static final int IGNORE = -100;

  public TokenizedSample {
    if (inputIds.length == 0) {
      throw new IllegalArgumentException("a sample needs at least one token");
    }
    if (labels.length != inputIds.length) {
      throw new IllegalArgumentException("labels must be as long as inputIds");
    }
  }

  public int length() {
    return inputIds.length;
  }

  /** Label positions that carry a loss once shifted: {@code labels[1..]} that are not IGNORE. */
  public int lossTokens() {
    int n = 0;
    for (int t = 1; t < labels.length; t++) {
      if (labels[t] != IGNORE) {
        n++;
      }
    }
    return n;
  }

  /** The first {@code n} tokens (a sample over the length limit is cut from the right). */
  /**
   * The sample cut to {@code n} tokens: its head, unless the head would score nothing (a prompt
   * longer than {@code n} under completion-only loss), then its tail, which ends with the
   * completion — a cut that leaves nothing to learn would only add NaN losses.
   */
  public TokenizedSample truncate(int n) {
    if (n >= inputIds.length) {
      return this;
    }
    boolean headScores = false;
    for (int t = 1; t < n && !headScores; t++) {
      headScores = labels[t] != IGNORE;
    }
    if (headScores) {
      return new TokenizedSample(
          java.util.Arrays.copyOf(inputIds, n), java.util.Arrays.copyOf(labels, n));
    }
    int from = inputIds.length - n;
    int[] tailLabels = java.util.Arrays.copyOfRange(labels, from, inputIds.length);
    tailLabels[0] = IGNORE;
    return new TokenizedSample(
        java.util.Arrays.copyOfRange(inputIds, from, inputIds.length), tailLabels);
  }
}
