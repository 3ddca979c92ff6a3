package dev.editforge.selfrag;

/**
 * How a candidate's critique adds up: {@code final = exp(seq) [useSeqScore] + wRel * relevance +
 * wSup * groundness [useGroundness] + wUse * utility [useUtility]} (run_short_form.py:152-157).
 */
public record CritiqueWeights(
    double wRel,
    double wSup,
    double wUse,
    boolean useSeqScore,
    boolean useGroundness,
    boolean useUtility) {

  /**
   * Short form: run_short_form.py's CLI defaults (every weight 1.0) with the README's PopQA flags
   * {@code --use_groundness --use_utility --use_seqscore}.
   */
  public static CritiqueWeights shortFormDefaults() {
    return new CritiqueWeights(1.0, 1.0, 1.0, true, true, true);
  }

  /**
   * Long form: run_long_form_static.py fixes the weights at 1 / 1 / 0.5 (LF:364) and does not
   * forward use_seqscore (LF:221-224), so the sequence score is off.
   */
  public static CritiqueWeights longFormDefaults() {
    return new CritiqueWeights(1.0, 1.0, 0.5, false, true, true);
  }
}
