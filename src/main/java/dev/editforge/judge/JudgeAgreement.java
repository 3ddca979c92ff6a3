package dev.editforge.judge;

/**
 * How a judge's verdicts agree with a reference grader's (SEAL: GPT-4.1), "correct" being the
 * positive class: tp = both say correct, fp = judge says correct and reference does not, fn = the
 * reverse, tn = both say wrong.
 */
public record JudgeAgreement(long tp, long fp, long fn, long tn) {

  public static JudgeAgreement empty() {
    return new JudgeAgreement(0, 0, 0, 0);
  }

  public JudgeAgreement add(boolean reference, boolean verdict) {
    if (verdict) {
      return reference
          ? new JudgeAgreement(tp + 1, fp, fn, tn)
          : new JudgeAgreement(tp, fp + 1, fn, tn);
    }
    return reference
        ? new JudgeAgreement(tp, fp, fn + 1, tn)
        : new JudgeAgreement(tp, fp, fn, tn + 1);
  }

  public long n() {
    return tp + fp + fn + tn;
  }

  /** Share of verdicts equal to the reference's; NaN for no verdicts. */
  public double accuracy() {
    return n() == 0 ? Double.NaN : (double) (tp + tn) / n();
  }

  /**
   * Of the answers this judge calls correct, the share the reference calls correct; 0 when it calls
   * none.
   */
  public double precision() {
    return tp + fp == 0 ? 0.0 : (double) tp / (tp + fp);
  }

  /**
   * Of the answers the reference calls correct, the share this judge calls correct; 0 when there
   * are none.
   */
  public double recall() {
    return tp + fn == 0 ? 0.0 : (double) tp / (tp + fn);
  }

  /**
   * Cohen's kappa, (p_o − p_e) / (1 − p_e), with p_e from both graders' marginal rates. When p_e is
   * 1 (both graders gave one and the same label to everything) kappa is undefined: NaN.
   */
  public double kappa() {
    double n = n();
    if (n == 0) {
      return Double.NaN;
    }
    double po = (tp + tn) / n;
    double pe = ((double) (tp + fp) * (tp + fn) + (double) (fn + tn) * (fp + tn)) / (n * n);
    if (pe >= 1.0) {
      return Double.NaN;
    }
    return (po - pe) / (1.0 - pe);
  }
}
