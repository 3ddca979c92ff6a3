package dev.editforge.config;

/**
 * {@code editforge.select}: best-k selection of self-edits. The defaults are SEAL's ({@code
 * build_SFT_dataset.py}): k = 1 and no filters. {@code requireGainAbove} and {@code
 * minAdapterAccuracy} are null when off.
 */
public record SelectSettings(
    int k, Double requireGainAbove, Double minAdapterAccuracy, boolean dropDuplicates) {

  public SelectSettings {
    if (k < 1) {
      throw new IllegalArgumentException("k must be >= 1, got " + k);
    }
  }

  /** SEAL's behaviour: k = 1, nothing filtered. */
  public static SelectSettings seal() {
    return new SelectSettings(1, null, null, false);
  }

  public static SelectSettings from(ConfigReader r) {
    return new SelectSettings(
        r.integer("k", 1, 1_000_000),
        r.has("require-gain-above") ? r.number("require-gain-above", -1.0, 1.0) : null,
        r.has("min-adapter-accuracy") ? r.number("min-adapter-accuracy", 0.0, 1.0) : null,
        r.bool("drop-duplicates"));
  }
}
