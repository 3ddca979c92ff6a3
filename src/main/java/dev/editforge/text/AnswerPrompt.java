package dev.editforge.text;

/**
 * SEAL's question-answering prompt for TTT evaluation (base-model template {@code
 * SQUAD_ANSWER_TEMPLATE_BASE}). SEAL fills its {@code {question}} field with {@code "Topic:
 * {title}\n{question}"} — the article title goes inside the question — and passes the same field to
 * the grader, so {@link #questionField} is also what an LLM judge must be given.
 */
public final class AnswerPrompt {
  public static final String TEMPLATE =
      "Let's answer a question directly and concisely.\nQuestion: {question}\nAnswer:\n";
  public static final String QUESTION_FIELD = "Topic: {title}\n{question}";

  private AnswerPrompt() {}

  /** {@code "Topic: {title}\n{question}"}. */
  public static String questionField(String title, String question) {
    return "Topic: " + title + "\n" + question;
  }

  /**
   * {@code "Let's answer a question directly and concisely.\nQuestion: Topic:
   * {title}\n{question}\nAnswer:\n"}.
   */
  public static String render(String title, String question) {
    return "Let's answer a question directly and concisely.\nQuestion: "
        + questionField(title, question)
        + "\nAnswer:\n";
  }
}
