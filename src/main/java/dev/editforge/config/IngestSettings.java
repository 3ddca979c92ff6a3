package dev.editforge.config;

import java.util.List;

/** Settings of {@code editforge ingest}; see reference.conf for each key. */
public record IngestSettings(
    List<String> inputs,
    long maxRecordBytes,
    int maxDepth,
    int maxStringChars,
    double maxRejectedFraction,
    int minPartitions,
    int rejectSampleChars) {

  public static IngestSettings from(ConfigReader r) {
    return new IngestSettings(
        r.strings("inputs"),
        r.bytes("max-record-bytes", 1, Integer.MAX_VALUE - 16),
        r.integer("max-depth", 1, 10_000),
        r.integer("max-string-chars", 1, Integer.MAX_VALUE - 16),
        r.number("max-rejected-fraction", 0.0, 1.0),
        r.integer("min-partitions", 0, 1_000_000),
        r.integer("reject-sample-chars", 0, 1_000_000));
  }
}
