package dev.editforge.spark;

import dev.editforge.config.EditforgeSettings;
import dev.editforge.io.RunDir;
import java.io.PrintStream;
import org.apache.spark.sql.SparkSession;

/**
 * What every stage job receives: settings, Spark, the run directory, --force, the console, and
 * --break-lock (remove a table lock older than {@code editforge.run.lock-timeout}). During {@code
 * --dry-run} no Spark session is started, so {@code spark} is null unless one was already running
 * (planning must reach files through {@link #hadoopConf()} or the run directory's file system).
 */
public record StageContext(
    EditforgeSettings settings,
    SparkSession spark,
    RunDir runDir,
    boolean force,
    PrintStream console,
    boolean breakLock) {

  /** A context that never breaks a lock (benches, tests). */
  public StageContext(
      EditforgeSettings settings,
      SparkSession spark,
      RunDir runDir,
      boolean force,
      PrintStream console) {
    this(settings, spark, runDir, force, console, false);
  }

  public HadoopConf hadoopConf() {
    return new HadoopConf(
        spark != null ? spark.sparkContext().hadoopConfiguration() : runDir.fs().getConf());
  }

  public void say(String line) {
    synchronized (console) {
      console.println(line);
      console.flush();
    }
  }
}
