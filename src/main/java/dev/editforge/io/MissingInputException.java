package dev.editforge.io;

/**
 * Something a command needs before it can start is not there: a file named on the command line,
 * or an upstream table no stage has completed yet. The message says what is missing and what to
 * run first; the CLI exits 2 with it.
 */
public final class MissingInputException extends RuntimeException {
  public MissingInputException(String message) {
    super(message);
  }

  /**
   * The table {@code table} of {@code run} is not usable by {@code stage}: absent or not completed.
   * {@code producer} is the command that writes it, e.g. {@code "editforge score"}.
   */
  public static MissingInputException table(String stage, RunDir run, String table, String producer) {
    String state = run.manifest(table)
        .map(m -> "its manifest says " + m.status())
        .orElse("it does not exist");
    return new MissingInputException(stage + " needs table " + table + " in " + run.root() + ", but " + state
        + "; run `" + producer + "` first");
  }
}
