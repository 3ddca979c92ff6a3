package dev.editforge.io;

import java.util.List;
import java.util.Map;

/**
 * JSON text formatted exactly as Python's {@code json.dumps(obj, ensure_ascii=False)} formats it:
 * comma-space and colon-space separators; only the double quote, the backslash and control
 * characters escaped (short forms for backspace, form feed, newline, carriage return and tab, a
 * lower-case four-digit hex escape otherwise); everything else, non-ASCII included, as is. SEAL and
 * most Hugging Face tooling write JSONL this way, so files editforge writes can be compared byte
 * for byte with theirs. Values: String, Boolean, Number, null, List, Map (insertion order).
 */
public final class PyJson {
  private PyJson() {}

  public static String dumps(Object value) {
    StringBuilder sb = new StringBuilder();
    write(sb, value);
    return sb.toString();
  }

  private static void write(StringBuilder sb, Object v) {
    if (v == null) {
      sb.append("null");
    } else if (v instanceof String s) {
      string(sb, s);
    } else if (v instanceof Boolean b) {
      sb.append(b ? "true" : "false");
    } else if (v instanceof Double d) {
      if (d.isNaN() || d.isInfinite()) {
        throw new IllegalArgumentException("JSON has no " + d);
      }
      sb.append(pythonFloat(d));
    } else if (v instanceof Float f) {
      write(sb, f.doubleValue());
    } else if (v instanceof Number n) {
      sb.append(n.longValue());
    } else if (v instanceof Map<?, ?> m) {
      sb.append('{');
      boolean first = true;
      for (Map.Entry<?, ?> e : m.entrySet()) {
        if (!first) {
          sb.append(", ");
        }
        first = false;
        string(sb, String.valueOf(e.getKey()));
        sb.append(": ");
        write(sb, e.getValue());
      }
      sb.append('}');
    } else if (v instanceof List<?> l) {
      sb.append('[');
      for (int i = 0; i < l.size(); i++) {
        if (i > 0) {
          sb.append(", ");
        }
        write(sb, l.get(i));
      }
      sb.append(']');
    } else {
      throw new IllegalArgumentException("cannot write " + v.getClass().getName() + " as JSON");
    }
  }

  /**
   * Python's float repr: round-trip digits (Java's {@code Double.toString}), exponent form outside
   * [1e-4, 1e16).
   */
  static String pythonFloat(double d) {
    if (d == Math.rint(d) && Math.abs(d) < 1e16) {
      return String.format(java.util.Locale.ROOT, "%.1f", d);
    }
    double a = Math.abs(d);
    if (a >= 1e-4 && a < 1e16) {
      return new java.math.BigDecimal(Double.toString(d)).stripTrailingZeros().toPlainString();
    }
    // Java gives 1.0E-5 where Python gives 1e-05.
    String[] parts = Double.toString(d).split("E");
    String mant = parts[0].endsWith(".0") ? parts[0].substring(0, parts[0].length() - 2) : parts[0];
    int exp = Integer.parseInt(parts[1]);
    return mant
        + "e"
        + (exp < 0 ? "-" : "+")
        + String.format(java.util.Locale.ROOT, "%02d", Math.abs(exp));
  }

  private static void string(StringBuilder sb, String s) {
    sb.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      switch (c) {
        case '"' -> sb.append("\\\"");
        case '\\' -> sb.append("\\\\");
        case '\n' -> sb.append("\\n");
        case '\r' -> sb.append("\\r");
        case '\t' -> sb.append("\\t");
        case '\b' -> sb.append("\\b");
        case '\f' -> sb.append("\\f");
        default -> {
          if (c < 0x20) {
            sb.append(String.format("\\u%04x", (int) c));
          } else {
            sb.append(c);
          }
        }
      }
    }
    sb.append('"');
  }
}
