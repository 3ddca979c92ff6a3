package dev.editforge.selfrag;

import dev.editforge.llm.TokenLogprobs;

/**
 * Self-RAG's decision whether to retrieve, from the first generated position's {@code [Retrieval]}
 * and {@code [No Retrieval]} log-probabilities. Intended rule (the default): P(Ret) / (P(Ret) +
 * P(NoRet)) > threshold with P = exp(log-prob), as run_long_form_static.py computes it. As written
 * in run_short_form.py:73-81 ({@link Quirk#LOGPROB_THRESHOLD}) the same ratio is taken of the raw
 * log-probabilities: both are negative, so the ratio is lp(Ret) / (lp(Ret) + lp(NoRet)), which
 * exceeds 0.5 exactly when {@code [Retrieval]} is the LESS likely token and retrieves nearly always
 * (Self-RAG issue #45). Stateless and thread-safe.
 */
public final class AdaptiveRetrieval {
  /** Self-RAG's default threshold (README PopQA run). */
  public static final double DEFAULT_THRESHOLD = 0.2;

  private AdaptiveRetrieval() {}

  /** The ratio the threshold is compared with; 0 when both tokens are impossible. */
  public static double ratio(TokenLogprobs.Step first, boolean asWrittenLogprobs) {
    double ret = first.logprob(ReflectionTokens.RETRIEVAL);
    double no = first.logprob(ReflectionTokens.NO_RETRIEVAL);
    if (!asWrittenLogprobs) {
      ret = Math.exp(ret);
      no = Math.exp(no);
    }
    double sum = ret + no;
    return sum == 0 ? 0.0 : ret / sum;
  }

  public static boolean retrieve(TokenLogprobs.Step first, double threshold, boolean asWritten) {
    return ratio(first, asWritten) > threshold;
  }

  /**
   * Long form: whether a segment that chose {@code [No Retrieval]} retrieves anyway: (P(Ret) +
   * P(Continue)) / (P(Ret) + P(NoRet)) > threshold (run_long_form_static.py:105-141).
   */
  public static boolean continueAnyway(TokenLogprobs.Step at, double threshold) {
    double ret = Math.exp(at.logprob(ReflectionTokens.RETRIEVAL));
    double cont = Math.exp(at.logprob(ReflectionTokens.CONTINUE));
    double no = Math.exp(at.logprob(ReflectionTokens.NO_RETRIEVAL));
    double sum = ret + no;
    return sum != 0 && (ret + cont) / sum > threshold;
  }
}
