package dev.editforge.llm.remote;

/**
 * A call to the OpenAI-compatible server failed for good (after its retries, or at once for a
 * client error such as 400). The message names the method, URL, HTTP status and the server's own
 * error text; it never contains the API key.
 */
public final class RemoteException extends RuntimeException {
  private final int status;
  private final int attempts;

  public RemoteException(String message, int status, int attempts, Throwable cause) {
    super(message, cause);
    this.status = status;
    this.attempts = attempts;
  }

  /** The last HTTP status, or -1 when no response came (timeout, connection error). */
  public int status() {
    return status;
  }

  public int attempts() {
    return attempts;
  }
}
