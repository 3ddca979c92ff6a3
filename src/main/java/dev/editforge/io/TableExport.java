package dev.editforge.io;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.Iterator;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Writes a table as one JSON-lines file for people and scripts. Rows stream to the driver one
 * partition at a time, so the file keeps the table's order without collecting it whole; the file
 * appears under its final name only when complete.
 */
public final class TableExport {
  private TableExport() {}

  public static Dataset<Row> read(SparkSession spark, RunDir run, String table) {
    Tables.schema(table);
    if (!StageTables.isUsable(run, table)) {
      String state =
          run.manifest(table)
              .map(m -> "its manifest says " + m.status())
              .orElse("it does not exist");
      throw new IllegalStateException(
          "table "
              + table
              + " in "
              + run.root()
              + " is not complete ("
              + state
              + "); run the stage that writes it first");
    }
    StageTables.verify(run, table);
    return spark.read().parquet(run.tableUri(table));
  }

  /** Returns the number of lines written. */
  public static long writeJsonl(
      Dataset<Row> rows, Path out, org.apache.hadoop.conf.Configuration conf) {
    Path tmp = new Path(out.getParent(), "." + out.getName() + ".tmp");
    long n = 0;
    try {
      FileSystem fs = out.getFileSystem(conf);
      try (BufferedWriter w =
          new BufferedWriter(
              new OutputStreamWriter(fs.create(tmp, true), StandardCharsets.UTF_8))) {
        Iterator<String> it = rows.toJSON().toLocalIterator();
        while (it.hasNext()) {
          w.write(it.next());
          w.write('\n');
          n++;
        }
      }
      fs.delete(out, false);
      if (!fs.rename(tmp, out)) {
        throw new IOException("rename " + tmp + " -> " + out + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + out, e);
    }
    return n;
  }
}
