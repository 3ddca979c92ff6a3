package dev.editforge.io;

import dev.editforge.llm.ChatMessage;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;

/**
 * The {@code sft} table as {@link SftRow}s. The table is written as one Parquet file in the
 * dataset's order, so reading it back gives the rows in the order they were selected and mixed (the
 * exports and trainers see the same order).
 */
public final class SftTable {
  private SftTable() {}

  public static Row toRow(SftRow r) {
    List<Row> messages = new ArrayList<>(r.messages().size());
    for (ChatMessage m : r.messages()) {
      messages.add(RowFactory.create(m.role(), m.content()));
    }
    return RowFactory.create(
        r.prompt(),
        r.completion(),
        Rows.seq(messages),
        r.source().wireName(),
        r.originId(),
        r.score());
  }

  public static SftRow fromRow(Row row) {
    List<Row> ms = row.getList(row.fieldIndex("messages"));
    List<ChatMessage> messages = new ArrayList<>(ms.size());
    for (Row m : ms) {
      messages.add(new ChatMessage(m.getString(0), m.getString(1)));
    }
    int score = row.fieldIndex("score");
    return new SftRow(
        row.getString(row.fieldIndex("prompt")),
        row.getString(row.fieldIndex("completion")),
        messages,
        SftSource.fromWire(row.getString(row.fieldIndex("source"))),
        row.getString(row.fieldIndex("origin_id")),
        row.isNullAt(score) ? null : row.getDouble(score));
  }

  /**
   * Writes the rows, in order, as a single Parquet file under {@code dir} (which must not exist).
   */
  public static void write(SparkSession spark, List<SftRow> rows, Path dir) {
    List<Row> out = new ArrayList<>(rows.size());
    for (SftRow r : rows) {
      out.add(toRow(r));
    }
    spark.createDataFrame(out, Tables.SFT_SCHEMA).coalesce(1).write().parquet(dir.toString());
  }

  /** The completed {@code sft} table of a run, in its stored order (collected to the driver). */
  public static List<SftRow> read(SparkSession spark, RunDir run) {
    List<SftRow> out = new ArrayList<>();
    for (Row r : TableExport.read(spark, run, Tables.SFT).collectAsList()) {
      out.add(fromRow(r));
    }
    return out;
  }
}
