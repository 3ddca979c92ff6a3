package dev.editforge.ingest;

import dev.editforge.text.SafeText;
import java.io.Serializable;
import org.apache.spark.sql.Row;

/**
 * One input record after parsing: either an accepted row for {@code table} with its dedup key and
 * content hash, or a rejection with its reason. Where it came from (file, line) travels with it so
 * rejects and id conflicts can point at the source.
 */
public final class Parsed implements Serializable {
  private static final long serialVersionUID = 1L;

  /** A reason longer than this was built around a long quote; the start says what went wrong. */
  static final int MAX_REASON_CHARS = 1000;

  public final String table;
  public final String key;
  public final String contentHash;
  public final String file;
  public final long line;
  public final Row row;
  public final String category;
  public final String reason;
  public final String raw;

  /** Sub-records this record held that were left out by rule (SQuAD v2 unanswerable questions). */
  public final long leftOut;

  private Parsed(
      String table,
      String key,
      String contentHash,
      String file,
      long line,
      Row row,
      String category,
      String reason,
      String raw,
      long leftOut) {
    this.table = table;
    this.key = key;
    this.contentHash = contentHash;
    this.file = file;
    this.line = line;
    this.row = row;
    this.category = category;
    this.reason = reason;
    this.raw = raw;
    this.leftOut = leftOut;
  }

  public static Parsed accepted(
      String table, String key, String contentHash, String file, long line, Row row) {
    return new Parsed(table, key, contentHash, file, line, row, null, null, null, 0);
  }

  public Parsed withLeftOut(long n) {
    return new Parsed(table, key, contentHash, file, line, row, category, reason, raw, n);
  }

  /**
   * A refused record. The reason, file name and raw sample are made safe to print here, the one
   * place every reject passes: each may quote bytes of a crafted input, and rejects are read on
   * terminals ({@code jq -r .reason}) and echoed in summaries.
   */
  public static Parsed rejected(
      String table, String file, long line, RejectReason reason, String raw) {
    return new Parsed(
        table,
        null,
        null,
        SafeText.escape(file),
        line,
        null,
        reason.category(),
        SafeText.quote(reason.message(), MAX_REASON_CHARS),
        raw == null ? null : SafeText.escape(raw),
        0);
  }

  public boolean isAccepted() {
    return row != null;
  }

  /** Source order for "first occurrence wins": file name, then line. */
  public int compareSourceOrder(Parsed other) {
    int c = file.compareTo(other.file);
    return c != 0 ? c : Long.compare(line, other.line);
  }

  @Override
  public String toString() {
    return isAccepted()
        ? table + ":" + key + "@" + file + ":" + line
        : "reject(" + reason + ")@" + file + ":" + line;
  }
}
