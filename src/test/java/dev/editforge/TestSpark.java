package dev.editforge;

import org.apache.spark.sql.SparkSession;

/**
 * The one {@code local[2]} SparkSession all stage tests share (surefire runs the tests in one JVM);
 * CLI runs inside tests join it instead of starting their own.
 */
public final class TestSpark {
  private static SparkSession session;

  private TestSpark() {}

  public static synchronized SparkSession session() {
    if (session == null || session.sparkContext().isStopped()) {
      session =
          SparkSession.builder()
              .master("local[2]")
              .appName("editforge-tests")
              .config("spark.ui.enabled", "false")
              .config("spark.sql.shuffle.partitions", "4")
              .config("spark.driver.host", "127.0.0.1")
              .getOrCreate();
    }
    return session;
  }
}
