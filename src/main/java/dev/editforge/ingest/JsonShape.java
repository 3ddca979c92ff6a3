package dev.editforge.ingest;

/**
 * Measures a JSON text character by character without parsing it: its size in UTF-8 bytes, how deep
 * its lists and objects nest, and its longest string. Memory stays constant whatever the input (a
 * counter per property, no stack), so a record nested a million deep or holding a 100 MB string is
 * measured, and then rejected, without being built. Brackets are counted, not matched: a record
 * whose brackets do not match is left for the JSON parser to call malformed. Not thread-safe.
 */
final class JsonShape {
  private final RecordLimits limits;
  private long bytes;
  private int depth;
  private int maxDepth;
  private boolean inString;
  private boolean escaped;
  private long stringChars;
  private long longestString;

  JsonShape(RecordLimits limits) {
    this.limits = limits;
  }

  /** The first limit {@code text} breaks, or null when it keeps them all. */
  static RejectReason check(CharSequence text, RecordLimits limits) {
    JsonShape shape = new JsonShape(limits);
    for (int i = 0; i < text.length(); i++) {
      shape.accept(text.charAt(i));
    }
    return shape.violation();
  }

  void accept(char c) {
    bytes += c < 0x80 ? 1 : c < 0x800 || Character.isSurrogate(c) ? 2 : 3;
    if (inString) {
      if (escaped) {
        escaped = false;
      } else if (c == '\\') {
        escaped = true;
      } else if (c == '"') {
        inString = false;
        return;
      }
      // Raw characters, escapes counted as written: never less than the decoded length.
      stringChars++;
      longestString = Math.max(longestString, stringChars);
      return;
    }
    switch (c) {
      case '"' -> {
        inString = true;
        stringChars = 0;
      }
      case '[', '{' -> {
        depth++;
        maxDepth = Math.max(maxDepth, depth);
      }
      case ']', '}' -> depth = Math.max(0, depth - 1);
      default -> {}
    }
  }

  /** Inside a string (a quote is open). */
  boolean inString() {
    return inString;
  }

  /** Open lists and objects at this point. */
  int depth() {
    return depth;
  }

  long bytes() {
    return bytes;
  }

  /** True once any limit is broken: what follows need not be kept. */
  boolean overLimit() {
    return bytes > limits.maxRecordBytes()
        || maxDepth > limits.maxDepth()
        || longestString > limits.maxStringChars();
  }

  RejectReason violation() {
    if (bytes > limits.maxRecordBytes()) {
      return RejectReason.of(
          RejectReason.TOO_LARGE,
          "record of "
              + bytes
              + " bytes exceeds editforge.ingest.max-record-bytes ("
              + limits.maxRecordBytes()
              + ")");
    }
    if (maxDepth > limits.maxDepth()) {
      return RejectReason.of(
          RejectReason.TOO_DEEP,
          "record nests lists/objects "
              + maxDepth
              + " deep, more than editforge.ingest.max-depth ("
              + limits.maxDepth()
              + ")");
    }
    if (longestString > limits.maxStringChars()) {
      return RejectReason.of(
          RejectReason.TOO_LARGE,
          "record holds a string of "
              + longestString
              + " characters, more than editforge.ingest.max-string-chars ("
              + limits.maxStringChars()
              + ")");
    }
    return null;
  }
}
