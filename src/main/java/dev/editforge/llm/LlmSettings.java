package dev.editforge.llm;

import java.util.List;

/**
 * Settings of the local decoder runtime ({@code editforge.llm.*}).
 *
 * @param maxBatchSize rows (prompt x sample) decoded together; more rows raise throughput until
 *     compute, not weight reads, is the limit
 * @param contextWindow tokens of prompt + completion; 0 = the model's max_position_embeddings
 * @param truncatePrompt true: cut an over-long prompt from the left; false: fail that request
 * @param chatTemplate {@code model} (the tokenizer's chat_template) or a built-in name
 * @param dtype {@code auto} (float16 on GPU, float32 on CPU), {@code float32} or {@code float16}
 * @param threads libtorch intra-op threads for the loading thread; 0 = the engine's default
 * @param maxKvCacheMb the most KV-cache memory one decode batch may hold (MB of 10^6 bytes): a
 *     batch is cut to the rows that fit, a request whose one row does not fit fails alone
 */
public record LlmSettings(
    int maxBatchSize,
    int contextWindow,
    boolean truncatePrompt,
    String chatTemplate,
    String dtype,
    int threads,
    int maxKvCacheMb) {

  public static final List<String> DTYPES = List.of("auto", "float32", "float16");

  /** reference.conf's {@code max-kv-cache-mb}. */
  public static final int DEFAULT_MAX_KV_CACHE_MB = 4096;

  public LlmSettings {
    if (maxBatchSize < 1) {
      throw new IllegalArgumentException("maxBatchSize must be >= 1");
    }
    if (contextWindow < 0) {
      throw new IllegalArgumentException("contextWindow must be >= 0");
    }
    if (!chatTemplate.equals("model") && !ChatTemplate.BUILT_IN_NAMES.contains(chatTemplate)) {
      throw new IllegalArgumentException("unknown chat template " + chatTemplate);
    }
    if (!DTYPES.contains(dtype)) {
      throw new IllegalArgumentException("dtype must be one of " + DTYPES);
    }
    if (maxKvCacheMb < 1) {
      throw new IllegalArgumentException("maxKvCacheMb must be >= 1");
    }
  }

  /** Settings with the default KV-cache bound ({@link #DEFAULT_MAX_KV_CACHE_MB}). */
  public LlmSettings(
      int maxBatchSize,
      int contextWindow,
      boolean truncatePrompt,
      String chatTemplate,
      String dtype,
      int threads) {
    this(
        maxBatchSize,
        contextWindow,
        truncatePrompt,
        chatTemplate,
        dtype,
        threads,
        DEFAULT_MAX_KV_CACHE_MB);
  }

  public static LlmSettings defaults() {
    return new LlmSettings(16, 0, false, "model", "auto", 0, DEFAULT_MAX_KV_CACHE_MB);
  }

  public LlmSettings withMaxBatchSize(int n) {
    return new LlmSettings(
        n, contextWindow, truncatePrompt, chatTemplate, dtype, threads, maxKvCacheMb);
  }

  public LlmSettings withContextWindow(int n) {
    return new LlmSettings(
        maxBatchSize, n, truncatePrompt, chatTemplate, dtype, threads, maxKvCacheMb);
  }

  public LlmSettings withTruncatePrompt(boolean truncate) {
    return new LlmSettings(
        maxBatchSize, contextWindow, truncate, chatTemplate, dtype, threads, maxKvCacheMb);
  }

  public LlmSettings withChatTemplate(String name) {
    return new LlmSettings(
        maxBatchSize, contextWindow, truncatePrompt, name, dtype, threads, maxKvCacheMb);
  }

  public LlmSettings withThreads(int n) {
    return new LlmSettings(
        maxBatchSize, contextWindow, truncatePrompt, chatTemplate, dtype, n, maxKvCacheMb);
  }

  public LlmSettings withMaxKvCacheMb(int mb) {
    return new LlmSettings(
        maxBatchSize, contextWindow, truncatePrompt, chatTemplate, dtype, threads, mb);
  }
}
