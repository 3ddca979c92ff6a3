package dev.editforge.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;

/**
 * {@code editforge.generator-data}: how {@code editforge generator-data} assembles Self-RAG's
 * generator text from the critic labels (postprocess_data.py). The probabilities are Self-RAG's
 * draws; {@code asWrittenRandomIndex} reproduces the script's random-passage index (see README).
 */
public record GeneratorDataSettings(
    long seed,
    String datasetName,
    double noRetrievalKeep,
    double partialFirst,
    double noSupportFirst,
    double nqRandom,
    double nqNoRetrievalDrop,
    boolean asWrittenRandomIndex)
    implements java.io.Serializable {

  public static GeneratorDataSettings from(EditforgeSettings settings) {
    Config raw = settings.raw();
    ConfigReader r =
        new ConfigReader(
            raw.hasPath("editforge.generator-data")
                ? raw.getConfig("editforge.generator-data")
                : ConfigFactory.empty(),
            "editforge.generator-data");
    return new GeneratorDataSettings(
        r.longValue("seed", Long.MIN_VALUE, Long.MAX_VALUE),
        r.string("dataset-name"),
        r.number("no-retrieval-keep", 0, 1),
        r.number("partial-first", 0, 1),
        r.number("no-support-first", 0, 1),
        r.number("nq-random", 0, 1),
        r.number("nq-no-retrieval-drop", 0, 1),
        r.bool("as-written-random-index"));
  }
}
