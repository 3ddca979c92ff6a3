package dev.editforge.report;

import java.util.Locale;

/**
 * Text into the report's markup. Every string that comes from the run (titles, reject records,
 * reasons, paths) goes through {@link #esc}, so a record holding {@code <script>} shows as text and
 * the page stays well-formed XML (tests parse it as XML).
 */
final class Markup {
  private Markup() {}

  /** Escapes for element text and attribute values; drops characters XML 1.0 cannot hold. */
  static String esc(String s) {
    if (s == null) {
      return "";
    }
    StringBuilder b = new StringBuilder(s.length() + 16);
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '&' -> b.append("&amp;");
        case '<' -> b.append("&lt;");
        case '>' -> b.append("&gt;");
        case '"' -> b.append("&quot;");
        case '\'' -> b.append("&#39;");
        default -> {
          if (Character.isHighSurrogate(c)
              && i + 1 < s.length()
              && Character.isLowSurrogate(s.charAt(i + 1))) {
            b.append(c).append(s.charAt(++i));
          } else if (isXmlChar(c)) {
            b.append(c);
          } else {
            b.append('\uFFFD');
          }
        }
      }
    }
    return b.toString();
  }

  private static boolean isXmlChar(char c) {
    if (Character.isSurrogate(c)) {
      return false; // unpaired: not encodable
    }
    return c == '\t' || c == '\n' || c == '\r' || (c >= 0x20 && c != 0xFFFE && c != 0xFFFF);
  }

  /** At most {@code max} characters, marked with an ellipsis when cut. */
  static String cut(String s, int max) {
    if (s == null || s.length() <= max) {
      return s;
    }
    int end = max;
    if (Character.isHighSurrogate(s.charAt(end - 1))) {
      end--;
    }
    return s.substring(0, end) + "\u2026";
  }

  /** A number for a table cell or an axis: "-" for NaN. */
  static String num(double v, int decimals) {
    if (Double.isNaN(v)) {
      return "-";
    }
    return String.format(Locale.ROOT, "%." + decimals + "f", v);
  }

  /** A coordinate in SVG user units. */
  static String px(double v) {
    return String.format(Locale.ROOT, "%.1f", v);
  }

  static String count(long n) {
    return String.format(Locale.ROOT, "%,d", n);
  }
}
