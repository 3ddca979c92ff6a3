package dev.editforge.io;

import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * Writes a table as JSON-lines files for people and scripts: {@code <table>.jsonl}, or one {@code
 * <table>_<part>.jsonl} per part for a table stored as several Parquet directories ({@code
 * evaluation}: {@code articles/} and {@code questions/}), and {@code <table>_rejects.jsonl} when
 * the stage refused records. Rows stream to the driver one partition at a time, so a file keeps the
 * table's order without collecting it whole; it appears under its final name only when complete.
 */
public final class TableExport {
  private TableExport() {}

  /**
   * Tables stored as several Parquet directories under the table's directory; the evaluate stage
   * writes {@code evaluation/articles} (per-article accuracy) and {@code evaluation/questions}
   * (every answer).
   */
  private static final Map<String, List<String>> PARTS =
      Map.of(Tables.EVALUATION, List.of("articles", "questions"));

  /**
   * One JSONL file of an export: its name and the directory it comes from, Parquet for rows, JSON
   * lines ({@link Tables#REJECTS_SCHEMA}) for rejects.
   */
  public record File(String name, Path source, boolean rejects) {
    public Dataset<Row> read(SparkSession spark) {
      return rejects
          ? spark.read().schema(Tables.REJECTS_SCHEMA).json(source.toString())
          : spark.read().parquet(source.toString());
    }
  }

  /** Every table {@code export --table} accepts, sorted. */
  public static List<String> names() {
    TreeSet<String> all = new TreeSet<>(Tables.names());
    all.addAll(PARTS.keySet());
    return List.copyOf(all);
  }

  /**
   * The files exporting {@code table} writes: its rows (one file per part), then its rejects when
   * it has any. Throws when the table is not complete.
   */
  public static List<File> files(RunDir run, String table) {
    checkUsable(run, table);
    List<File> out = new ArrayList<>();
    List<String> parts = PARTS.get(table);
    if (parts == null) {
      out.add(new File(table + ".jsonl", run.table(table), false));
    } else {
      for (String part : parts) {
        out.add(new File(table + "_" + part + ".jsonl", new Path(run.table(table), part), false));
      }
    }
    Path rejects = new Path(run.table(table), RunDir.REJECTS);
    if (run.exists(rejects)) {
      out.add(new File(table + "_rejects.jsonl", rejects, true));
    }
    return out;
  }

  /** Whether {@code table} can be exported from {@code run} now (its stage completed). */
  public static boolean isExportable(RunDir run, String table) {
    return names().contains(table) && StageTables.isUsable(run, table);
  }

  public static Dataset<Row> read(SparkSession spark, RunDir run, String table) {
    Tables.schema(table);
    checkUsable(run, table);
    return spark.read().parquet(run.tableUri(table));
  }

  private static void checkUsable(RunDir run, String table) {
    if (!names().contains(table)) {
      throw new IllegalArgumentException(
          "unknown table " + table + "; tables: " + String.join(", ", names()));
    }
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
  }

  /** Returns the number of lines written. */
  public static long writeJsonl(
      Dataset<Row> rows, Path out, org.apache.hadoop.conf.Configuration conf) {
    Path tmp = new Path(out.getParent(), "." + out.getName() + ".tmp");
    long n = 0;
    try {
      FileSystem fs = out.getFileSystem(conf);
      if (fs instanceof LocalFileSystem local) {
        // no .crc sidecar beside every file: people and notebooks list this directory
        fs = local.getRawFileSystem();
      }
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
