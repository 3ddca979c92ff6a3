package dev.editforge.ttt;

import dev.editforge.text.TrainSequences;
import java.util.List;

/**
 * One self-edit to score: the text a LoRA adapter is trained on (SEAL's train sequences are built
 * from it). A null completion is a passage-only edit: the adapter trains on the passage alone
 * ({@link #trainSequences}).
 */
public record TttEdit(String editId, String articleId, String completion) {
  /** The "train on passage" edit of SEAL's evaluation: its only train sequence is the passage. */
  public static TttEdit passageOnly(String editId, String articleId) {
    return new TttEdit(editId, articleId, null);
  }

  public boolean isPassageOnly() {
    return completion == null;
  }

  /** The sequences its adapter trains on: SEAL's train sequences, or the passage alone. */
  public List<String> trainSequences(String title, String context, boolean splitNewlines) {
    return isPassageOnly()
        ? TrainSequences.passageOnly(title, context)
        : TrainSequences.build(completion, title, context, splitNewlines);
  }
}
