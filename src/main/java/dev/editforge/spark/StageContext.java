package dev.editforge.spark;

import dev.editforge.config.EditforgeSettings;
import dev.editforge.io.RunDir;
import java.io.PrintStream;
import org.apache.spark.sql.SparkSession;

/**
 * What every stage job receives: settings, Spark, the run directory, --force, the console, and
 * --break-lock (remove a table lock older than {@code editforge.run.lock-timeout}).
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
    return new HadoopConf(spark.sparkContext().hadoopConfiguration());
  }

  public void say(String line) {
    synchronized (console) {
      console.println(line);
      console.flush();
    }
  }
}
