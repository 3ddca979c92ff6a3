package dev.editforge.selfrag;

import dev.editforge.llm.TokenLogprobs;
import java.util.List;
import java.util.Set;

/**
 * Self-RAG's critique score of one generated candidate, from the log-probabilities of its tokens
 * (run_short_form.py:100-157; spec.md section e):
 *
 * <ul>
 *   <li>{@code seq} = cumulative log-prob / max(#generated, 1);
 *   <li>{@code relevance} = P(Relevant) / (P(Relevant) + P(Irrelevant)) at the first position;
 *   <li>{@code groundness}: at the first position whose generated token is a support token, the
 *       three support probabilities normalized, P(Fully) + 0.5 P(Partially); 0 when none;
 *   <li>{@code utility}: at the first utility position, the five normalized, weighted -1, -0.5, 0,
 *       0.5, 1; 0 when none;
 * </ul>
 *
 * P = exp(log-prob) with an absent log-prob taken as -100. Stateless and thread-safe.
 *
 * @param seq mean log-probability per generated token
 * @param total the weighted sum the candidates are ranked by
 */
public record CritiqueScore(
    double seq, double relevance, double groundness, double utility, double total) {

  /** Self-RAG's utility weights for {@code [Utility:1]} .. {@code [Utility:5]}. */
  public static final double[] UTILITY_WEIGHTS = {-1.0, -0.5, 0.0, 0.5, 1.0};

  /** Scores one candidate with the short-form rules. */
  public static CritiqueScore of(TokenLogprobs lp, CritiqueWeights w) {
    return of(lp, w, Set.of());
  }

  /** Scores one candidate; the long-form quirks change relevance and utility as written. */
  public static CritiqueScore of(TokenLogprobs lp, CritiqueWeights w, Set<Quirk> quirks) {
    double seq = lp.cumulative() / Math.max(lp.size(), 1);
    double rel = relevance(lp, quirks.contains(Quirk.ABSENT_RELEVANCE_RAW));
    double sup = w.useGroundness() ? groundness(lp) : 0.0;
    double use = w.useUtility() && !quirks.contains(Quirk.UTILITY_ZERO) ? utility(lp) : 0.0;
    double total =
        (w.useSeqScore() ? Math.exp(seq) : 0.0) + w.wRel() * rel + w.wSup() * sup + w.wUse() * use;
    return new CritiqueScore(seq, rel, sup, use, total);
  }

  /**
   * Relevance at the first generated position; 0 when nothing was generated. With {@code rawAbsent}
   * an unreported token counts as -100 itself, as the long-form script does.
   */
  static double relevance(TokenLogprobs lp, boolean rawAbsent) {
    if (lp.size() == 0) {
      return 0.0;
    }
    TokenLogprobs.Step first = lp.steps().get(0);
    double rel = prob(first, ReflectionTokens.RELEVANT, rawAbsent);
    double irr = prob(first, ReflectionTokens.IRRELEVANT, rawAbsent);
    double sum = rel + irr;
    return sum == 0 ? 0.0 : rel / sum;
  }

  private static double prob(TokenLogprobs.Step step, String token, boolean rawAbsent) {
    if (rawAbsent && !step.top().containsKey(token)) {
      return TokenLogprobs.ABSENT;
    }
    return Math.exp(step.logprob(token));
  }

  /** P(Fully) + 0.5 P(Partially), normalized over the three, at the first support token. */
  static double groundness(TokenLogprobs lp) {
    int at = firstGenerated(lp, ReflectionTokens.SUPPORT_GROUP);
    if (at < 0) {
      return 0.0;
    }
    double[] p = probs(lp.steps().get(at), ReflectionTokens.SUPPORT_GROUP);
    double sum = p[0] + p[1] + p[2];
    return sum == 0 ? 0.0 : p[0] / sum + 0.5 * (p[1] / sum);
  }

  /** Σ w_k P(Utility:k), normalized over the five, at the first utility token. */
  static double utility(TokenLogprobs lp) {
    int at = firstGenerated(lp, ReflectionTokens.UTILITY);
    if (at < 0) {
      return 0.0;
    }
    double[] p = probs(lp.steps().get(at), ReflectionTokens.UTILITY);
    double sum = 0;
    for (double x : p) {
      sum += x;
    }
    if (sum == 0) {
      return 0.0;
    }
    double u = 0;
    for (int k = 0; k < p.length; k++) {
      u += UTILITY_WEIGHTS[k] * (p[k] / sum);
    }
    return u;
  }

  /** The first position whose generated token is one of {@code group}, or -1. */
  public static int firstGenerated(TokenLogprobs lp, List<String> group) {
    for (int i = 0; i < lp.size(); i++) {
      if (group.contains(lp.steps().get(i).token())) {
        return i;
      }
    }
    return -1;
  }

  private static double[] probs(TokenLogprobs.Step step, List<String> tokens) {
    double[] p = new double[tokens.size()];
    for (int i = 0; i < p.length; i++) {
      p[i] = Math.exp(step.logprob(tokens.get(i)));
    }
    return p;
  }
}
