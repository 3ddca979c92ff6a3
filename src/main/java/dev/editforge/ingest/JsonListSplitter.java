package dev.editforge.ingest;

import java.io.IOException;
import java.io.Reader;

/**
 * Cuts the list of records out of a streamed JSON document, one record's text at a time, without
 * parsing the records: the list is the document itself ({@code [...]}) or the value of a top-level
 * key ({@code {"data": [...]}}). Each record is measured by {@link JsonShape} as it streams past; a
 * record over a limit is not kept (only its first {@code sampleChars} characters), so one hostile
 * record costs neither memory nor the rest of the file. Only the list's own punctuation is checked
 * here ({@code ,} between records, {@code ]} at the end); a document broken there, or one that ends
 * inside a record, is an {@link InputException}, since where the next record starts is then
 * unknown. A leading byte-order mark is skipped. Not thread-safe; the caller closes the reader.
 */
final class JsonListSplitter {
  /** One record of the list: its 0-based index, the line it starts on, and its text or why not. */
  record Item(long index, long line, String text, RejectReason overLimit, String sample) {}

  private final Reader in;
  private final String file;
  private final RecordLimits limits;
  private final char[] buf = new char[1 << 16];
  private int pos;
  private int len;
  private long line = 1;
  private long column;
  private long index;
  private boolean ended;

  JsonListSplitter(Reader in, String file, RecordLimits limits) {
    this.in = in;
    this.file = file;
    this.limits = limits;
  }

  /**
   * Positions the splitter at the start of the list. Returns false for a top-level list, true for
   * an object whose {@code listKey} holds the list. Anything else is an {@link InputException}
   * built from {@code notThisFormat} (what the file should have been).
   */
  boolean open(String listKey, String notThisFormat) throws IOException {
    int c = peek();
    if (c == '\uFEFF') {
      read();
    }
    c = skipWhitespace();
    if (c == '[') {
      read();
      return false;
    }
    if (c != '{') {
      throw new InputException(notThisFormat);
    }
    read();
    seekKey(listKey);
    return true;
  }

  private void seekKey(String key) throws IOException {
    while (true) {
      int c = skipWhitespace();
      if (c == '}' || c == -1) {
        throw new InputException(
            file + " is not a SQuAD file: the top-level object has no \"" + key + "\" list");
      }
      if (c == ',') {
        read();
        continue;
      }
      if (c != '"') {
        throw notJson("expected a key of the top-level object");
      }
      String name = readKey();
      if (skipWhitespace() != ':') {
        throw notJson("expected ':' after the key \"" + name + "\"");
      }
      read();
      if (skipWhitespace() == '[' && key.equals(name)) {
        read();
        return;
      }
      if (key.equals(name)) {
        throw new InputException(file + " is not a SQuAD file: \"" + key + "\" must be a list");
      }
      skipValue();
    }
  }

  /** The next record of the list, or null after its closing {@code ]}. */
  Item next() throws IOException {
    if (ended) {
      return null;
    }
    int c = skipWhitespace();
    if (index == 0 && c == ']') {
      read();
      ended = true;
      return null;
    }
    if (c == -1) {
      throw notJson("the document ends before the list is closed with ']'");
    }
    if (c == ',' || c == ']') {
      throw notJson("expected a record, found '" + (char) c + "'");
    }
    long startLine = line;
    JsonShape shape = new JsonShape(limits);
    StringBuilder text = new StringBuilder();
    while (true) {
      c = read();
      if (c == -1) {
        throw notJson(
            "the document ends inside record "
                + index
                + " (which starts at line "
                + startLine
                + "): the file is cut short or a string is not closed");
      }
      if (!shape.inString() && shape.depth() == 0 && (c == ',' || c == ']')) {
        ended = c == ']';
        break;
      }
      shape.accept((char) c);
      if (!shape.overLimit()) {
        text.append((char) c);
      } else if (text.length() > limits.sampleChars()) {
        text.setLength(limits.sampleChars());
      } else if (text.length() < limits.sampleChars()) {
        text.append((char) c);
      }
    }
    Item item;
    RejectReason over = shape.violation();
    if (over == null) {
      item = new Item(index, startLine, text.toString().stripTrailing(), null, null);
    } else {
      item = new Item(index, startLine, null, over, limits.sample(text.toString()));
    }
    index++;
    return item;
  }

  private String readKey() throws IOException {
    read(); // the opening quote
    StringBuilder sb = new StringBuilder();
    boolean escaped = false;
    while (true) {
      int c = read();
      if (c == -1) {
        throw notJson("the document ends inside a key");
      }
      if (!escaped && c == '"') {
        return sb.toString();
      }
      escaped = !escaped && c == '\\';
      if (sb.length() < 200) {
        sb.append((char) c);
      }
    }
  }

  /** Skips one value of the top-level object, whatever its size or depth. */
  private void skipValue() throws IOException {
    JsonShape shape = new JsonShape(limits);
    while (true) {
      int c = peek();
      if (c == -1) {
        throw notJson("the document ends inside the top-level object");
      }
      if (!shape.inString() && shape.depth() == 0 && (c == ',' || c == '}')) {
        return;
      }
      shape.accept((char) read());
    }
  }

  private int skipWhitespace() throws IOException {
    int c = peek();
    while (c == ' ' || c == '\n' || c == '\r' || c == '\t') {
      read();
      c = peek();
    }
    return c;
  }

  private int peek() throws IOException {
    if (pos == len) {
      len = in.read(buf, 0, buf.length);
      pos = 0;
      if (len <= 0) {
        len = 0;
        return -1;
      }
    }
    return buf[pos];
  }

  private int read() throws IOException {
    int c = peek();
    if (c != -1) {
      pos++;
      if (c == '\n') {
        line++;
        column = 0;
      } else {
        column++;
      }
    }
    return c;
  }

  private InputException notJson(String what) {
    return new InputException(
        file + " is not valid JSON at line " + line + ", column " + (column + 1) + ": " + what);
  }
}
