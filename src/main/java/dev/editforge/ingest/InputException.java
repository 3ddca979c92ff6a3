package dev.editforge.ingest;

/**
 * A whole-file problem: the input is missing, unreadable, or not the declared format at all. The
 * CLI exits 2 with the message; no partial table becomes visible.
 */
public final class InputException extends RuntimeException {
  public InputException(String message) {
    super(message);
  }

  public InputException(String message, Throwable cause) {
    super(message, cause);
  }
}
