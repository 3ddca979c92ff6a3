package dev.editforge.encoders;

/**
 * An encoder could not be opened, or a text could not be embedded; the message says which and why.
 */
public final class EmbeddingException extends RuntimeException {
  public EmbeddingException(String message) {
    super(message);
  }

  public EmbeddingException(String message, Throwable cause) {
    super(message, cause);
  }
}
