package dev.editforge.ttt;

/**
 * One self-edit to score: the text a LoRA adapter is trained on (SEAL's train sequences are built
 * from it). A null completion is a passage-only edit: the adapter trains on the passage alone
 * ({@link TrainSequences#of}).
 */
public record TttEdit(String editId, String articleId, String completion) {
  /** The "train on passage" edit of SEAL's evaluation: its only train sequence is the passage. */
  public static TttEdit passageOnly(String editId, String articleId) {
    return new TttEdit(editId, articleId, null);
  }

  public boolean isPassageOnly() {
    return completion == null;
  }
}
