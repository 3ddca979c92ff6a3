package dev.editforge.ttt;

/** How one question fared before (baseline) and after (adapter) test-time training. */
public record QuestionResult(
    String question,
    String gold,
    String baselineAnswer,
    String adapterAnswer,
    boolean baselineCorrect,
    boolean adapterCorrect) {

  /** SEAL's per-question gain: +1 learned, -1 forgotten, 0 unchanged. */
  public int gain() {
    return (adapterCorrect ? 1 : 0) - (baselineCorrect ? 1 : 0);
  }
}
