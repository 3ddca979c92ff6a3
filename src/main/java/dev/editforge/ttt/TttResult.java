package dev.editforge.ttt;

import java.util.List;

/** One repeat of scoring one edit: a row of the {@code ttt_scores} table. */
public record TttResult(
    String editId,
    String articleId,
    int repeat,
    double baselineAccuracy,
    double adapterAccuracy,
    double adapterGain,
    List<Integer> gains,
    List<QuestionResult> questions,
    int trainSequences,
    long trainTokens,
    double seconds) {
  public TttResult {
    gains = List.copyOf(gains);
    questions = List.copyOf(questions);
  }
}
