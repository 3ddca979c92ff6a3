package dev.editforge.text;

import java.util.ArrayList;
import java.util.List;

/**
 * Python {@code str} semantics that SEAL's protocol depends on. SEAL builds train sequences and
 * grades answers with {@code str.strip()}, {@code str.splitlines()} and {@code \s} in {@code re}
 * patterns; Java's {@code String.strip()} and {@code lines()} disagree with them on characters such
 * as U+00A0 (Python strips it, Java does not) or U+2028 (a line break for Python only), so
 * byte-identical train sequences need Python's own definitions.
 */
public final class PyText {
  /**
   * The characters for which Python's {@code str.isspace()} is true, as a regex character class
   * body. Python's {@code \s} in a {@code str} pattern matches the same set.
   */
  public static final String WHITESPACE_CLASS =
      "\\t\\n\\u000B\\f\\r\\u001C-\\u001F \\u0085\\u00A0\\u1680\\u2000-\\u200A\\u2028\\u2029\\u202F\\u205F\\u3000";

  private PyText() {}

  /** Python's {@code str.isspace()} for one character. */
  public static boolean isSpace(char c) {
    return (c >= '\t' && c <= '\r')
        || (c >= '\u001C' && c <= ' ')
        || c == '\u0085'
        || c == '\u00A0'
        || c == '\u1680'
        || (c >= '\u2000' && c <= '\u200A')
        || c == '\u2028'
        || c == '\u2029'
        || c == '\u202F'
        || c == '\u205F'
        || c == '\u3000';
  }

  /** Python's {@code s.strip()}. */
  public static String strip(String s) {
    int start = 0;
    int end = s.length();
    while (start < end && isSpace(s.charAt(start))) {
      start++;
    }
    while (end > start && isSpace(s.charAt(end - 1))) {
      end--;
    }
    return s.substring(start, end);
  }

  /** Python's {@code s.lstrip()}. */
  public static String lstrip(String s) {
    int start = 0;
    while (start < s.length() && isSpace(s.charAt(start))) {
      start++;
    }
    return s.substring(start);
  }

  /** True when {@code s.strip()} would be empty (null counts as blank). */
  public static boolean isBlank(String s) {
    if (s == null) {
      return true;
    }
    for (int i = 0; i < s.length(); i++) {
      if (!isSpace(s.charAt(i))) {
        return false;
      }
    }
    return true;
  }

  /** Python's {@code s.split()} with no arguments: runs of whitespace separate, no empty parts. */
  public static List<String> splitWhitespace(String s) {
    List<String> out = new ArrayList<>();
    int i = 0;
    int n = s.length();
    while (i < n) {
      while (i < n && isSpace(s.charAt(i))) {
        i++;
      }
      int start = i;
      while (i < n && !isSpace(s.charAt(i))) {
        i++;
      }
      if (i > start) {
        out.add(s.substring(start, i));
      }
    }
    return out;
  }

  /**
   * Python's {@code s.splitlines()} (without keepends): breaks at \n, \r, \r\n, \v, \f, \x1c, \x1d,
   * \x1e, \x85, U+2028 and U+2029; a trailing break does not produce an empty last line.
   */
  public static List<String> splitLines(String s) {
    List<String> out = new ArrayList<>();
    int start = 0;
    int i = 0;
    int n = s.length();
    while (i < n) {
      char c = s.charAt(i);
      if (isLineBreak(c)) {
        out.add(s.substring(start, i));
        if (c == '\r' && i + 1 < n && s.charAt(i + 1) == '\n') {
          i++;
        }
        i++;
        start = i;
      } else {
        i++;
      }
    }
    if (start < n) {
      out.add(s.substring(start));
    }
    return out;
  }

  private static boolean isLineBreak(char c) {
    return c == '\n'
        || c == '\r'
        || c == '\u000B'
        || c == '\f'
        || c == '\u001C'
        || c == '\u001D'
        || c == '\u001E'
        || c == '\u0085'
        || c == '\u2028'
        || c == '\u2029';
  }

  /**
   * Python's {@code str.format} for templates whose only fields are named: {@code {name}} is
   * replaced by {@code values.get(name)} in one pass (a value is never re-scanned, so a title
   * containing "{context}" stays literal), {@code {{} and {@code }}} are literal braces.
   *
   * @throws IllegalArgumentException for a field missing from {@code values}, a positional or
   *     formatted field ({@code {}}, {@code {0}}, {@code {x:>5}}), or an unmatched brace
   */
  public static String format(String template, java.util.Map<String, String> values) {
    StringBuilder out = new StringBuilder(template.length() + 256);
    int i = 0;
    int n = template.length();
    while (i < n) {
      char c = template.charAt(i);
      if (c == '{') {
        if (i + 1 < n && template.charAt(i + 1) == '{') {
          out.append('{');
          i += 2;
          continue;
        }
        int close = template.indexOf('}', i + 1);
        if (close < 0) {
          throw new IllegalArgumentException("unmatched '{' at offset " + i + " in template");
        }
        String field = template.substring(i + 1, close);
        if (!field.matches("[A-Za-z_][A-Za-z0-9_]*")) {
          throw new IllegalArgumentException(
              "unsupported field {"
                  + field
                  + "} at offset "
                  + i
                  + ": only named fields such as "
                  + String.join(", ", values.keySet().stream().map(k -> "{" + k + "}").toList())
                  + " are allowed; write {{ and }} for literal braces");
        }
        String value = values.get(field);
        if (value == null) {
          throw new IllegalArgumentException(
              "unknown field {"
                  + field
                  + "} in template; known fields: "
                  + String.join(", ", values.keySet().stream().map(k -> "{" + k + "}").toList()));
        }
        out.append(value);
        i = close + 1;
      } else if (c == '}') {
        if (i + 1 < n && template.charAt(i + 1) == '}') {
          out.append('}');
          i += 2;
          continue;
        }
        throw new IllegalArgumentException(
            "single '}' at offset " + i + " in template; write }} for a literal brace");
      } else {
        out.append(c);
        i++;
      }
    }
    return out.toString();
  }
}
