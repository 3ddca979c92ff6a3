package dev.editforge.io;

/**
 * Something a command needs before it can start is missing or unusable: a file named on the command
 * line that is absent or not in its format, or an upstream table no stage has completed yet. The
 * message says what is wrong and what to run or fix; the CLI exits 2 with it.
 */
public final class UnusableInputException extends RuntimeException {
  private final String absentTable;

  public UnusableInputException(String message) {
    this(message, null);
  }

  private UnusableInputException(String message, String absentTable) {
    super(message);
    this.absentTable = absentTable;
  }

  /**
   * The upstream table that does not exist yet, or null: {@code --dry-run} shows a stage waiting
   * for a table its upstream task has not written yet instead of refusing it.
   */
  public String absentTable() {
    return absentTable;
  }

  /**
   * The table {@code table} of {@code run} is not usable by {@code stage}: absent or not completed.
   * {@code producer} is the command that writes it, e.g. {@code "editforge score"}.
   */
  public static UnusableInputException table(
      String stage, RunDir run, String table, String producer) {
    String state =
        run.manifest(table).map(m -> "its manifest says " + m.status()).orElse("it does not exist");
    return new UnusableInputException(
        stage
            + " needs table "
            + table
            + " in "
            + run.root()
            + ", but "
            + state
            + "; run `"
            + producer
            + "` first",
        run.manifest(table).isEmpty() ? table : null);
  }
}
