package dev.editforge.config;

/**
 * A configuration value that is missing, of the wrong type or out of range. The CLI turns it into
 * exit code 2 with {@link #getMessage()} as the single line shown to the user, so the message
 * always names the full key, the offending value and what is allowed.
 */
public final class SettingsException extends RuntimeException {
  private final String key;

  public SettingsException(String key, Object value, String allowed) {
    super("invalid setting " + key + " = " + render(value) + ": " + allowed);
    this.key = key;
  }

  public SettingsException(String message) {
    super(message);
    this.key = null;
  }

  /** The full dotted key, or null for errors that concern the file as a whole. */
  public String key() {
    return key;
  }

  private static String render(Object value) {
    if (value == null) {
      return "(missing)";
    }
    if (value instanceof String s) {
      return "\"" + s + "\"";
    }
    return String.valueOf(value);
  }
}
