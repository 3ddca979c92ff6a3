package dev.editforge.config;

import java.time.Duration;
import java.util.Map;

/**
 * How editforge starts Spark. {@code master} is used only when the launcher did not set one
 * (spark-submit's {@code --master} always wins); {@code conf} entries are applied the same way.
 */
public record SparkSettings(
    String master,
    String appName,
    int shufflePartitions,
    Duration progressInterval,
    Map<String, String> conf) {

  public static SparkSettings from(ConfigReader r) {
    return new SparkSettings(
        r.string("master"),
        r.nonEmpty("app-name"),
        r.integer("shuffle-partitions", 1, 100_000),
        r.duration("progress-interval"),
        r.stringMap("conf"));
  }
}
