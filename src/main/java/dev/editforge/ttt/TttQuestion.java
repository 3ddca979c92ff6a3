package dev.editforge.ttt;

import java.util.List;

/** One question with its gold answers (any of them counts). */
public record TttQuestion(String question, List<String> answers) {
  public TttQuestion {
    answers = List.copyOf(answers);
  }
}
