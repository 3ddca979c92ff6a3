package dev.editforge.config;

import java.io.Serializable;

/**
 * {@code editforge.iterate}: SEAL's ReST^EM rounds ({@code editforge iterate}).
 *
 * @param articlesPerRound new training articles each round draws (SEAL: 50)
 * @param seed the seed of the draw; the same seed draws the same articles for every round
 */
public record IterateSettings(int articlesPerRound, long seed) implements Serializable {
  public static IterateSettings from(ConfigReader r) {
    return new IterateSettings(
        r.integer("articles-per-round", 1, 1 << 20), r.longValue("seed", 0, Long.MAX_VALUE));
  }
}
