package dev.editforge.spark;

import dev.editforge.config.EditforgeSettings;
import dev.editforge.io.RunDir;
import java.io.PrintStream;
import org.apache.spark.sql.SparkSession;

/** What every stage job receives: settings, Spark, the run directory, --force, and the console. */
public record StageContext(
    EditforgeSettings settings, SparkSession spark, RunDir runDir, boolean force, PrintStream console) {

  public HadoopConf hadoopConf() {
    return new HadoopConf(spark.sparkContext().hadoopConfiguration());
  }

  /** TEMPORARY: the skip rule for stages not yet on {@link StageRunner}. */
  public java.util.Optional<dev.editforge.io.Manifest> skipIfUpToDate(String stage, String table, String fingerprint) {
    if (force) {
      return java.util.Optional.empty();
    }
    return dev.editforge.io.StageTables.upToDate(runDir, table, fingerprint).map(m -> {
      dev.editforge.io.Manifest skipped = dev.editforge.io.StageTables.markSkipped(runDir, table, m);
      say(stage + ": " + table + " skipped: up-to-date (" + skipped.count("output") + " rows in " + runDir.table(table) + ")");
      return skipped;
    });
  }

  public void say(String line) {
    synchronized (console) {
      console.println(line);
      console.flush();
    }
  }
}
