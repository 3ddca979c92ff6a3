package dev.editforge.ingest;

/**
 * Why a record was refused. {@code category} is a short stable word (used to summarize rejects);
 * {@code message} says exactly what was wrong.
 */
public record RejectReason(String category, String message) {
  public static final String MALFORMED = "malformed";
  public static final String MISSING_FIELD = "missing-field";
  public static final String EMPTY_FIELD = "empty-field";
  public static final String WRONG_TYPE = "wrong-type";
  public static final String INVALID_UTF8 = "invalid-utf8";
  public static final String TOO_LARGE = "too-large";
  public static final String TOO_DEEP = "too-deep";
  public static final String ID_CONFLICT = "id-conflict";
  public static final String INVALID_VALUE = "invalid-value";

  public static RejectReason of(String category, String message) {
    return new RejectReason(category, message);
  }
}
