package dev.editforge.spark;

import dev.editforge.config.SparkSettings;
import java.io.PrintStream;
import java.util.Map;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;

/**
 * Creates (or joins) the application's SparkSession. Whatever the launcher set wins: spark-submit's
 * {@code --master} and {@code --conf} are never overridden by editforge's config, which only fills
 * in what is missing. One progress listener per SparkContext.
 */
public final class SparkSessions {
  private static ProgressListener progress;

  private SparkSessions() {}

  public static synchronized SparkSession getOrCreate(SparkSettings s, PrintStream console) {
    SparkSession active =
        SparkSession.getActiveSession().isDefined()
            ? SparkSession.getActiveSession().get()
            : (SparkSession.getDefaultSession().isDefined()
                ? SparkSession.getDefaultSession().get()
                : null);
    if (active != null && !active.sparkContext().isStopped()) {
      return active;
    }
    SparkConf conf = new SparkConf();
    if (!conf.contains("spark.master")) {
      if (s.master().isEmpty()) {
        throw new dev.editforge.config.SettingsException(
            "editforge.spark.master",
            s.master(),
            "no Spark master: launch with spark-submit --master ... or set a master such as local[*]");
      }
      conf.setMaster(s.master());
    }
    conf.setIfMissing("spark.app.name", s.appName());
    conf.setIfMissing("spark.sql.shuffle.partitions", Integer.toString(s.shufflePartitions()));
    for (Map.Entry<String, String> e : s.conf().entrySet()) {
      conf.setIfMissing(e.getKey(), e.getValue());
    }
    SparkSession spark = SparkSession.builder().config(conf).getOrCreate();
    if (progress != null) {
      progress.close();
    }
    progress = new ProgressListener(console, System.console() != null, s.progressInterval());
    spark.sparkContext().addSparkListener(progress);
    return spark;
  }
}
