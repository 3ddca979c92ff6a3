package dev.editforge.text;

/**
 * Makes text taken from an input file safe to print: every character a terminal could act on
 * becomes a visible escape, and the result is cut to a bounded length. A crafted file could
 * otherwise send {@code ESC]0;…} (retitle the terminal), {@code ESC[2J} (clear it) or a bidi
 * override through an error message or a reject reason straight to the user's screen (issue 17,
 * item 9).
 *
 * <p>Escaped: C0 controls and DEL ({@code \n}, {@code \r}, {@code \t} by name, the rest as {@code
 * \u001b}), C1 controls (U+0080–U+009F; U+009B is a one-character CSI on some terminals), format
 * characters such as bidi overrides and zero-width joiners (Unicode category Cf), line and
 * paragraph separators, and unpaired surrogates. Backslashes are left as they are: the aim is a
 * harmless, readable quote (paths stay legible), not a reversible encoding. Pure and thread-safe.
 */
public final class SafeText {
  /** The default bound on a quote taken from an input, in characters before escaping. */
  public static final int DEFAULT_MAX_CHARS = 200;

  private SafeText() {}

  /** {@link #quote(CharSequence, int)} with {@link #DEFAULT_MAX_CHARS}. */
  public static String quote(CharSequence s) {
    return quote(s, DEFAULT_MAX_CHARS);
  }

  /**
   * Escapes {@code s} and cuts it after {@code maxChars} input characters, saying how many were
   * left out; null stays "null". A cut never splits a surrogate pair.
   */
  public static String quote(CharSequence s, int maxChars) {
    if (s == null) {
      return "null";
    }
    int end = Math.min(s.length(), Math.max(0, maxChars));
    if (end > 0
        && end < s.length()
        && Character.isHighSurrogate(s.charAt(end - 1))
        && Character.isLowSurrogate(s.charAt(end))) {
      end--;
    }
    StringBuilder sb = new StringBuilder(end + 16);
    appendEscaped(sb, s, 0, end);
    if (end < s.length()) {
      sb.append("... (").append(s.length() - end).append(" more chars)");
    }
    return sb.toString();
  }

  /** Escapes {@code s} without cutting it: for text already bounded by its producer. */
  public static String escape(CharSequence s) {
    if (s == null) {
      return "null";
    }
    if (isSafe(s)) {
      return s.toString();
    }
    StringBuilder sb = new StringBuilder(s.length() + 16);
    appendEscaped(sb, s, 0, s.length());
    return sb.toString();
  }

  /** True when {@link #escape} would return {@code s} unchanged. */
  public static boolean isSafe(CharSequence s) {
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (Character.isSurrogate(c)) {
        if (Character.isHighSurrogate(c)
            && i + 1 < s.length()
            && Character.isLowSurrogate(s.charAt(i + 1))) {
          if (unsafe(Character.toCodePoint(c, s.charAt(i + 1)))) {
            return false;
          }
          i++;
          continue;
        }
        return false;
      }
      if (unsafe(c)) {
        return false;
      }
    }
    return true;
  }

  private static void appendEscaped(StringBuilder sb, CharSequence s, int from, int to) {
    for (int i = from; i < to; i++) {
      char c = s.charAt(i);
      if (Character.isHighSurrogate(c) && i + 1 < to && Character.isLowSurrogate(s.charAt(i + 1))) {
        int cp = Character.toCodePoint(c, s.charAt(i + 1));
        if (unsafe(cp)) {
          unicodeEscape(sb, c);
          unicodeEscape(sb, s.charAt(i + 1));
        } else {
          sb.append(c).append(s.charAt(i + 1));
        }
        i++;
        continue;
      }
      switch (c) {
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        default -> {
          if (Character.isSurrogate(c) || unsafe(c)) {
            unicodeEscape(sb, c);
          } else {
            sb.append(c);
          }
        }
      }
    }
  }

  private static boolean unsafe(int cp) {
    int type = Character.getType(cp);
    return type == Character.CONTROL
        || type == Character.FORMAT
        || type == Character.LINE_SEPARATOR
        || type == Character.PARAGRAPH_SEPARATOR;
  }

  private static void unicodeEscape(StringBuilder sb, char c) {
    sb.append(String.format("\\u%04x", (int) c));
  }
}
