package dev.editforge.judge;

import java.util.ArrayList;
import java.util.List;

/**
 * Decides whether a predicted answer is correct given the gold answers. A blank prediction is never
 * correct (SEAL's rule: an empty answer is wrong without asking anyone).
 *
 * <p>{@code question} is the question as the grader should see it; under SEAL's protocol that is
 * the answer prompt's question field, {@code "Topic: {title}\n{question}"} ({@code
 * AnswerPrompt.questionField}). Local judges ignore it.
 */
public interface Judge {

  /** The name used in config ({@code editforge.judge.kind}) and in reports. */
  String name();

  /**
   * True when {@code prediction} is correct for any of {@code golds}.
   *
   * @throws JudgeException when the verdict cannot be obtained (an LLM call failed)
   */
  boolean correct(String question, List<String> golds, String prediction);

  /** One (question, gold answers, prediction) to judge. */
  record Item(String question, List<String> golds, String prediction) {
    public Item {
      golds = List.copyOf(golds);
    }
  }

  /** Verdicts in item order; the first failure ends the batch with its {@link JudgeException}. */
  default List<Boolean> correctAll(List<Item> items) {
    List<Boolean> out = new ArrayList<>(items.size());
    for (Item it : items) {
      out.add(correct(it.question(), it.golds(), it.prediction()));
    }
    return out;
  }
}
