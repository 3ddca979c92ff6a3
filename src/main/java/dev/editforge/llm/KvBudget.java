package dev.editforge.llm;

import java.util.Locale;

/**
 * The KV-cache memory bound ({@code editforge.llm.max-kv-cache-mb}) applied to a model: how many
 * bytes one position of one row takes, whether one row fits, and how many rows a batch may hold.
 * {@link LocalGenerator} sizes its batches by it, so the cache of one decode batch never exceeds
 * the bound. Immutable.
 */
public record KvBudget(long maxBytes, long bytesPerPosition) {
  public KvBudget {
    if (maxBytes < 1 || bytesPerPosition < 1) {
      throw new IllegalArgumentException("KV budget and bytes per position must be positive");
    }
  }

  /** The bound of {@code settings} on {@code model} (keys + values of every layer, its dtype). */
  public static KvBudget of(LlmSettings settings, DecoderModel model) {
    return new KvBudget(
        settings.maxKvCacheMb() * 1_000_000L,
        bytesPerPosition(model.config(), model.dtype().getNumOfBytes()));
  }

  /** Keys and values of every layer for one position of one row. */
  public static long bytesPerPosition(ModelConfig c, int elementBytes) {
    return 2L * c.numHiddenLayers() * c.numKeyValueHeads() * c.headDim() * elementBytes;
  }

  /** Bytes of a cache of {@code rows} x {@code positions}. */
  public long bytes(int rows, int positions) {
    return rows * (long) positions * bytesPerPosition;
  }

  /** Rows of {@code positions} each that fit (0 when not even one does). */
  public int rowsThatFit(int positions) {
    return (int)
        Math.min(Integer.MAX_VALUE, maxBytes / (bytesPerPosition * Math.max(1, positions)));
  }

  /**
   * Why a row of {@code positions} (prompt + new tokens) cannot be decoded, or null when it fits.
   */
  public String refusal(int promptTokens, int newTokens) {
    int positions = promptTokens + newTokens;
    if (rowsThatFit(positions) >= 1) {
      return null;
    }
    return String.format(
        Locale.ROOT,
        "the prompt (%d tokens) + max_new_tokens (%d) need %.1f MB of KV cache; "
            + "editforge.llm.max-kv-cache-mb allows %.0f MB (raise it, or ask for fewer tokens)",
        promptTokens,
        newTokens,
        bytes(1, positions) / 1e6,
        maxBytes / 1e6);
  }
}
