package dev.editforge.llm;

import java.util.List;
import java.util.Map;

/**
 * The log-probabilities behind one completion, one {@link Step} per generated token, the same shape
 * from the local decoder and from an OpenAI-compatible server: what Self-RAG's critique scores and
 * SEAL-style judges read. Immutable.
 *
 * @param steps one entry per generated token, in order (a stop token the local decoder ended on
 *     included)
 */
public record TokenLogprobs(List<Step> steps) {
  /** What a named token gets when a step does not report it: Self-RAG's default (SF:121). */
  public static final double ABSENT = -100.0;

  public TokenLogprobs {
    steps = List.copyOf(steps);
  }

  /**
   * One generated position.
   *
   * @param tokenId the chosen token's id, -1 when the backend does not say (remote servers)
   * @param token the chosen token's text as the backend spells it (special tokens kept)
   * @param logprob the chosen token's log-probability
   * @param top the top-k alternatives and every requested named token, text to log-probability; a
   *     named token a remote server left out of its top-k is absent
   */
  public record Step(int tokenId, String token, double logprob, Map<String, Double> top) {
    public Step {
      top = Map.copyOf(top);
    }

    /** The log-probability of {@code token} at this step, {@link #ABSENT} when not reported. */
    public double logprob(String token) {
      Double lp = top.get(token);
      return lp == null ? ABSENT : lp;
    }
  }

  /** Sum of the chosen tokens' log-probabilities (vLLM's {@code cumulative_logprob}). */
  public double cumulative() {
    double s = 0;
    for (Step st : steps) {
      s += st.logprob();
    }
    return s;
  }

  public int size() {
    return steps.size();
  }
}
