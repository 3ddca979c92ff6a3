package dev.editforge.llm.hub;

/**
 * A model could not be resolved. The message is meant for the person running the job: it names the
 * repository and says what to do. It never contains the token.
 */
public final class HubException extends RuntimeException {
  /** Why, for callers that react differently (and for tests). */
  public enum Kind {
    /** The reference is neither a directory nor a well-formed hub id ({@code Org/../../x}). */
    INVALID_REFERENCE,
    /** The repository, revision or file does not exist (HTTP 404). */
    NOT_FOUND,
    /** The repository is gated or private and the token is missing or lacks access (401/403). */
    UNAUTHORIZED,
    /** Offline mode and the model is not in the cache. */
    NOT_CACHED,
    /** The repository only has pickle checkpoints, which are never loaded. */
    PICKLE_ONLY,
    /** The repository has no usable files (no config.json or no safetensors). */
    UNUSABLE,
    /** A download broke off, or its size or checksum did not match. */
    INCOMPLETE,
    /** Any other HTTP or I/O failure. */
    IO
  }

  private final Kind kind;

  public HubException(Kind kind, String message) {
    super(message);
    this.kind = kind;
  }

  public HubException(Kind kind, String message, Throwable cause) {
    super(message, cause);
    this.kind = kind;
  }

  public Kind kind() {
    return kind;
  }
}
