package dev.editforge.selfrag;

import java.util.EnumSet;
import java.util.Set;

/**
 * How Self-RAG answers: passages per question, the adaptive threshold, generation length, how many
 * alternatives each step reports, the critique weights, the as-written quirks switched on, and the
 * long-form beam.
 *
 * @param topLogprobs alternatives per step besides the reflection tokens (a remote server reports
 *     only these, so it needs enough to contain them)
 */
public record SelfRagOptions(
    int ndocs,
    double threshold,
    int maxNewTokens,
    int topLogprobs,
    CritiqueWeights weights,
    Set<Quirk> quirks,
    int beamWidth,
    int maxDepth,
    int segmentTokens) {
  public SelfRagOptions {
    quirks = quirks.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(quirks));
  }

  /** Self-RAG's README PopQA run (ndocs 10, 100 tokens, threshold 0.2) and long-form beam 2 x 6. */
  public static SelfRagOptions defaults() {
    return new SelfRagOptions(
        10,
        AdaptiveRetrieval.DEFAULT_THRESHOLD,
        100,
        20,
        CritiqueWeights.shortFormDefaults(),
        Set.of(),
        2,
        6,
        100);
  }

  public boolean has(Quirk q) {
    return quirks.contains(q);
  }
}
