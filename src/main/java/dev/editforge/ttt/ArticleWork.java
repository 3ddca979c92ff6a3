package dev.editforge.ttt;

import java.io.Serializable;
import java.util.List;

/**
 * One unit of score work shipped to an executor: an article with its questions and its accepted
 * self-edits (sorted by edit id). Serializable twin of {@link TttArticle} + {@link TttEdit}. {@code
 * baselineAnswers}, when not null, are the article's baseline answers a previous run stored for the
 * same questions and base model, so the scorer need not generate them again.
 */
public record ArticleWork(
    String articleId,
    String title,
    String context,
    List<Question> questions,
    List<Edit> edits,
    List<String> baselineAnswers)
    implements Serializable {

  public record Question(String question, List<String> answers) implements Serializable {
    public Question {
      answers = List.copyOf(answers);
    }
  }

  public record Edit(String editId, String completion) implements Serializable {}

  public ArticleWork {
    questions = List.copyOf(questions);
    edits = List.copyOf(edits);
    baselineAnswers = baselineAnswers == null ? null : List.copyOf(baselineAnswers);
  }

  /** Work without stored baseline answers. */
  public ArticleWork(
      String articleId, String title, String context, List<Question> questions, List<Edit> edits) {
    this(articleId, title, context, questions, edits, null);
  }

  /** The same article with only {@code edits} and the given stored baseline answers. */
  public ArticleWork with(List<Edit> edits, List<String> baselineAnswers) {
    return new ArticleWork(articleId, title, context, questions, edits, baselineAnswers);
  }

  public TttArticle article() {
    return new TttArticle(
        articleId,
        title,
        context,
        questions.stream().map(q -> new TttQuestion(q.question(), q.answers())).toList());
  }

  public List<TttEdit> tttEdits() {
    return edits.stream().map(e -> new TttEdit(e.editId(), articleId, e.completion())).toList();
  }
}
