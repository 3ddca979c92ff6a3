package dev.editforge.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;

/**
 * {@code editforge.continual}: SEAL's continual self-edit experiment ({@code
 * continual_self_edits.py}). Each of {@code sequences} sequences samples {@code articles} articles
 * (seeded) and, starting from {@code editforge.ttt.model}, writes a self-edit for each, trains a
 * LoRA adapter on it with the ttt settings and merges it into the model. SEAL's reference run is 8
 * sequences of 8 articles.
 *
 * <p>Only the local runtime can merge an adapter into the model that writes the next edit, so
 * {@code ttt.mode = vllm} is refused here, at start-up.
 */
public record ContinualSettings(
    int sequences, int articles, long seed, boolean keepModels, int gpus, String model)
    implements java.io.Serializable {

  public static ContinualSettings from(EditforgeSettings settings) {
    Config raw = settings.raw();
    ConfigReader r =
        new ConfigReader(
            raw.hasPath("editforge.continual")
                ? raw.getConfig("editforge.continual")
                : ConfigFactory.empty(),
            "editforge.continual");
    ConfigReader ttt =
        new ConfigReader(
            raw.hasPath("editforge.ttt") ? raw.getConfig("editforge.ttt") : ConfigFactory.empty(),
            "editforge.ttt");
    String mode = ttt.string("mode");
    if (!"local".equalsIgnoreCase(mode)) {
      throw new SettingsException(
          ttt.full("mode"),
          mode,
          "continual needs mode = local: each step merges its adapter into the model that writes"
              + " the next self-edit, and vLLM cannot merge adapters into its base model");
    }
    return new ContinualSettings(
        r.integer("sequences", 1, 1_000_000),
        r.integer("articles", 1, 1_000_000),
        r.longValue("seed", Long.MIN_VALUE, Long.MAX_VALUE),
        r.bool("keep-models"),
        r.integer("gpus", 0, 64),
        ttt.nonEmpty("model"));
  }
}
