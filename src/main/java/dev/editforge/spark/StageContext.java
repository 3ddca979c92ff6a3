package dev.editforge.spark;

import dev.editforge.config.EditforgeSettings;
import dev.editforge.io.RunDir;
import java.io.PrintStream;
import org.apache.spark.sql.SparkSession;

/** What every stage job receives: settings, Spark, the run directory, --force, and the console. */
public record StageContext(
    EditforgeSettings settings,
    SparkSession spark,
    RunDir runDir,
    boolean force,
    PrintStream console) {

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
