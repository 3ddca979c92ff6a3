package dev.editforge.llm;

import java.util.List;

/**
 * How to sample one request's completions. {@code temperature == 0} means greedy. {@code topK <= 0}
 * and {@code topP >= 1} disable those filters. The {@code seed} fixes the random stream of this
 * request alone, so the same seed gives the same text whatever else shares the batch. {@code
 * skipSpecialTokens} (vLLM's name and default) drops special and added tokens from the completion
 * text; false keeps them, as Self-RAG reads its answers through {@code [Retrieval]}, {@code
 * [Relevant]}, ... tokens.
 */
public record SamplingParams(
    int maxNewTokens,
    double temperature,
    double topP,
    int topK,
    int n,
    List<String> stop,
    List<Integer> stopTokenIds,
    long seed,
    boolean skipSpecialTokens) {

  public SamplingParams {
    if (maxNewTokens < 0) {
      throw new IllegalArgumentException("maxNewTokens must be >= 0, got " + maxNewTokens);
    }
    if (temperature < 0) {
      throw new IllegalArgumentException("temperature must be >= 0, got " + temperature);
    }
    if (!(topP > 0 && topP <= 1)) {
      throw new IllegalArgumentException("topP must be in (0, 1], got " + topP);
    }
    if (n < 1) {
      throw new IllegalArgumentException("n must be >= 1, got " + n);
    }
    stop = stop == null ? List.of() : List.copyOf(stop);
    stopTokenIds = stopTokenIds == null ? List.of() : List.copyOf(stopTokenIds);
  }

  /** Special tokens skipped from the text (vLLM's default). */
  public SamplingParams(
      int maxNewTokens,
      double temperature,
      double topP,
      int topK,
      int n,
      List<String> stop,
      List<Integer> stopTokenIds,
      long seed) {
    this(maxNewTokens, temperature, topP, topK, n, stop, stopTokenIds, seed, true);
  }

  public static SamplingParams greedy(int maxNewTokens) {
    return new SamplingParams(maxNewTokens, 0.0, 1.0, 0, 1, List.of(), List.of(), 0L);
  }

  public boolean isGreedy() {
    return temperature == 0.0;
  }

  public SamplingParams withSeed(long newSeed) {
    return new SamplingParams(
        maxNewTokens, temperature, topP, topK, n, stop, stopTokenIds, newSeed, skipSpecialTokens);
  }

  public SamplingParams withN(int newN) {
    return new SamplingParams(
        maxNewTokens, temperature, topP, topK, newN, stop, stopTokenIds, seed, skipSpecialTokens);
  }

  /** The same request with special tokens kept in ({@code false}) or skipped from the text. */
  public SamplingParams withSkipSpecialTokens(boolean skip) {
    return new SamplingParams(
        maxNewTokens, temperature, topP, topK, n, stop, stopTokenIds, seed, skip);
  }
}
