package dev.editforge.ingest;

import dev.editforge.text.SafeText;

/**
 * A whole-file problem: the input is missing, unreadable, or not the declared format at all. The
 * CLI exits 2 with the message; no partial table becomes visible. The message is made safe to print
 * ({@link SafeText#escape}): whoever builds it bounds each quote from the input with {@link
 * SafeText#quote}, and this catches any control character that slipped through (a file name, a
 * parser's message), since the message reaches the terminal and the logs.
 */
public final class InputException extends RuntimeException {
  public InputException(String message) {
    super(SafeText.escape(message));
  }

  public InputException(String message, Throwable cause) {
    super(SafeText.escape(message), cause);
  }
}
