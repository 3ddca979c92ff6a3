package dev.editforge.io;

/**
 * Another writer holds the lock of a table this command would write, or replaced the table while
 * this one was committing. Nothing of this command's output was committed; the CLI exits 2 with the
 * message, which names the other writer (host, pid, start time, command) when it is known.
 */
public final class TableConflictException extends RuntimeException {
  public TableConflictException(String message) {
    super(message);
  }
}
