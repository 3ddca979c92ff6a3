package dev.editforge.ttt;

import java.util.List;

/**
 * An article to score edits against: its passage and the questions the adapter should now answer.
 */
public record TttArticle(
    String articleId, String title, String context, List<TttQuestion> questions) {
  public TttArticle {
    questions = List.copyOf(questions);
  }
}
