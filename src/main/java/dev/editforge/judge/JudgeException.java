package dev.editforge.judge;

/** A verdict could not be obtained, e.g. the grading call failed after the client's retries. */
public final class JudgeException extends RuntimeException {
  public JudgeException(String message, Throwable cause) {
    super(message, cause);
  }
}
