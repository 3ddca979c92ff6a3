package dev.editforge.llm.net;

/**
 * Keeps credentials out of messages. Our own messages never include a token; this scrubs text that
 * comes from a server (an error body could echo a header back) before it reaches a log line or an
 * exception.
 */
public final class Secrets {
  public static final String MASK = "***";

  private Secrets() {}

  /** {@code text} with every occurrence of each non-empty secret replaced by {@link #MASK}. */
  public static String redact(String text, String... secrets) {
    if (text == null) {
      return null;
    }
    String out = text;
    for (String s : secrets) {
      if (s != null && !s.isEmpty()) {
        out = out.replace(s, MASK);
      }
    }
    return out;
  }

  /** A server-supplied snippet for a message: redacted, one line, at most {@code max} chars. */
  public static String snippet(String text, int max, String... secrets) {
    if (text == null) {
      return "";
    }
    String s = redact(text, secrets).replaceAll("\\s+", " ").trim();
    return s.length() <= max ? s : s.substring(0, max) + "...";
  }
}
