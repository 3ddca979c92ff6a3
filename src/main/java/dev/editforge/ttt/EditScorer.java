package dev.editforge.ttt;

import java.util.List;

/**
 * Scores self-edits by test-time training: per article the baseline answers are computed once and
 * shared by all its edits; per edit and repeat a fresh LoRA adapter is trained on the edit's train
 * sequences, the article's questions are answered with it and judged. Returns one result per (edit,
 * repeat), in edit order then repeat order. Implementations say whether they are thread-safe; the
 * owner closes them.
 */
public interface EditScorer extends AutoCloseable {
  List<TttResult> score(TttArticle article, List<TttEdit> edits);

  /**
   * As {@link #score(TttArticle, List)}, given the article's baseline answers a previous run stored
   * (one per question, for the same base model and questions): a scorer that can skips generating
   * them and only judges them. The default ignores them.
   */
  default List<TttResult> score(
      TttArticle article, List<TttEdit> edits, List<String> baselineAnswers) {
    return score(article, edits);
  }

  @Override
  void close();
}
