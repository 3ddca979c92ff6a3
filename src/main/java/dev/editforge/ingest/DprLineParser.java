package dev.editforge.ingest;

import dev.editforge.io.Ids;
import dev.editforge.io.Tables;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.RowFactory;

/**
 * DPR's {@code psgs_w100.tsv} layout: {@code id<TAB>text<TAB>title}, fields optionally wrapped in
 * double quotes with inner quotes doubled. The header line is checked on the driver and skipped.
 */
final class DprLineParser extends LineParser {
  static final String HEADER = "id\ttext\ttitle";

  DprLineParser(RecordLimits limits) {
    super(Tables.PASSAGES, limits);
  }

  @Override
  protected Parsed parseLine(String file, long line, String text) throws Rejected {
    if (line == 1 && text.equals(HEADER)) {
      return null;
    }
    List<String> fields = split(text);
    if (fields.size() != 3) {
      throw new Rejected(
          RejectReason.MALFORMED,
          "expected 3 tab-separated fields (id, text, title), found " + fields.size());
    }
    String id = fields.get(0).strip();
    String body = fields.get(1).strip();
    String title = fields.get(2).strip();
    Fields.checkUtf8(text, "line");
    if (id.isEmpty()) {
      throw new Rejected(RejectReason.EMPTY_FIELD, "required field id is empty");
    }
    if (body.isEmpty()) {
      throw new Rejected(RejectReason.EMPTY_FIELD, "required field text is empty");
    }
    if (title.isEmpty()) {
      throw new Rejected(RejectReason.EMPTY_FIELD, "required field title is empty");
    }
    String source = InputKind.DPR.cliName();
    String passageId = Ids.of(source, id, title, body);
    return Parsed.accepted(
        table,
        source + "\u0000" + id,
        passageId,
        file,
        line,
        RowFactory.create(passageId, id, title, body, source));
  }

  /** Splits on tabs outside double quotes and unquotes quoted fields. */
  static List<String> split(String line) throws Rejected {
    List<String> out = new ArrayList<>(3);
    StringBuilder cur = new StringBuilder();
    int i = 0;
    int n = line.length();
    boolean fieldStart = true;
    while (i <= n) {
      if (i == n) {
        out.add(cur.toString());
        break;
      }
      char c = line.charAt(i);
      if (fieldStart && c == '"') {
        int j = i + 1;
        StringBuilder q = new StringBuilder();
        boolean closed = false;
        while (j < n) {
          char d = line.charAt(j);
          if (d == '"') {
            if (j + 1 < n && line.charAt(j + 1) == '"') {
              q.append('"');
              j += 2;
              continue;
            }
            closed = true;
            j++;
            break;
          }
          q.append(d);
          j++;
        }
        if (!closed) {
          throw new Rejected(
              RejectReason.MALFORMED, "unterminated quoted field starting at column " + (i + 1));
        }
        if (j < n && line.charAt(j) != '\t') {
          throw new Rejected(
              RejectReason.MALFORMED, "unexpected text after a quoted field at column " + (j + 1));
        }
        cur.append(q);
        i = j;
        fieldStart = false;
        continue;
      }
      if (c == '\t') {
        out.add(cur.toString());
        cur.setLength(0);
        fieldStart = true;
      } else {
        cur.append(c);
        fieldStart = false;
      }
      i++;
    }
    return out;
  }
}
