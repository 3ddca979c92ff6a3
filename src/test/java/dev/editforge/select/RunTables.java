package dev.editforge.select;

import dev.editforge.TestSpark;
import dev.editforge.io.Manifest;
import dev.editforge.io.Tables;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Row;

/**
 * Writes upstream tables into a test run directory as a completed stage would (Parquet + manifest).
 */
final class RunTables {
  private RunTables() {}

  static void write(Path run, String table, List<Row> rows) throws Exception {
    Path dir = run.resolve(table);
    TestSpark.session()
        .createDataFrame(rows, Tables.schema(table))
        .coalesce(1)
        .write()
        .parquet(dir.toString());
    Manifest m =
        Manifest.start("test", table, "cfg", "test", "fp-" + table)
            .count("output", rows.size())
            .finish(Manifest.COMPLETED);
    Files.writeString(dir.resolve("_manifest.json"), m.toJson());
  }
}
