package dev.editforge.critique;

import dev.editforge.llm.DecoderLoader;
import dev.editforge.llm.LlmSettings;
import dev.editforge.llm.LoadedDecoder;
import dev.editforge.llm.LocalGenerator;
import dev.editforge.llm.TextGenerator;
import dev.editforge.llm.remote.OpenAiClient;
import dev.editforge.llm.remote.OpenAiGenerator;
import dev.editforge.llm.remote.RemoteSettings;
import dev.editforge.spark.ExecutorModelCache;
import dev.editforge.spark.TaskResources;
import java.io.Serializable;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * The critic judge as an executor builds it, shipped from the driver: the local decoder (a resolved
 * directory) or an OpenAI-compatible server. The loaded decoder and the HTTP client (with this
 * stage's in-flight cap) are shared per executor JVM through {@link ExecutorModelCache}; {@link
 * #open()} returns a generator for the calling task, which the task closes.
 */
record JudgeSpec(
    boolean local,
    String modelDir,
    String modelName,
    boolean chat,
    int maxNewTokens,
    double temperature,
    // local
    int maxBatchSize,
    int contextWindow,
    boolean truncatePrompt,
    String chatTemplate,
    String dtype,
    int threads,
    int maxKvCacheMb,
    // openai
    String endpoint,
    String apiKeyEnv,
    int maxConcurrency,
    long connectTimeoutMs,
    long requestTimeoutMs,
    int maxRetries,
    long initialBackoffMs,
    long maxBackoffMs,
    long maxRowMs)
    implements Serializable {

  static JudgeSpec local(
      Path dir, String name, boolean chat, int maxNewTokens, double temperature, LlmSettings l) {
    return new JudgeSpec(
        true,
        dir.toString(),
        name,
        chat,
        maxNewTokens,
        temperature,
        l.maxBatchSize(),
        l.contextWindow(),
        l.truncatePrompt(),
        l.chatTemplate(),
        l.dtype(),
        l.threads(),
        l.maxKvCacheMb(),
        null,
        null,
        1,
        0,
        0,
        0,
        0,
        0,
        0);
  }

  static JudgeSpec remote(
      RemoteSettings r,
      String model,
      boolean chat,
      int maxNewTokens,
      double temperature,
      int maxConcurrency) {
    return new JudgeSpec(
        false,
        null,
        model,
        chat,
        maxNewTokens,
        temperature,
        0,
        0,
        false,
        null,
        null,
        0,
        LlmSettings.DEFAULT_MAX_KV_CACHE_MB,
        r.endpoint().toString(),
        r.apiKeyEnv(),
        maxConcurrency,
        r.connectTimeout().toMillis(),
        r.requestTimeout().toMillis(),
        r.maxRetries(),
        r.initialBackoff().toMillis(),
        r.maxBackoff().toMillis(),
        r.maxRowTime().toMillis());
  }

  /** The judge's name in label ids and rows: the model, or the endpoint when the server picks. */
  String name() {
    return modelName != null ? modelName : endpoint;
  }

  RemoteSettings remoteSettings() {
    return new RemoteSettings(
        URI.create(endpoint),
        modelName,
        apiKeyEnv,
        maxConcurrency,
        Duration.ofMillis(connectTimeoutMs),
        Duration.ofMillis(requestTimeoutMs),
        maxRetries,
        Duration.ofMillis(initialBackoffMs),
        Duration.ofMillis(maxBackoffMs),
        Duration.ofMillis(maxRowMs));
  }

  LlmSettings llm() {
    return new LlmSettings(
        maxBatchSize, contextWindow, truncatePrompt, chatTemplate, dtype, threads, maxKvCacheMb);
  }

  /** A generator for the calling task; close it after the task (the shared parts stay cached). */
  TextGenerator open() {
    if (local) {
      LlmSettings l = llm();
      TaskResources.Binding binding = TaskResources.bind(false, "critique");
      LoadedDecoder decoder =
          ExecutorModelCache.get(
              new ExecutorModelCache.Key(
                  modelDir,
                  binding.device().toString(),
                  dtype,
                  "critique:decoder threads=" + threads),
              () -> DecoderLoader.load(Path.of(modelDir), binding.device(), l));
      return new LocalGenerator(decoder, l, false);
    }
    RemoteSettings r = remoteSettings();
    OpenAiClient client =
        ExecutorModelCache.get(
            new ExecutorModelCache.Key("openai:" + endpoint, "remote", "-", "critique:client " + r),
            () -> new OpenAiClient(r));
    return new OpenAiGenerator(client, modelName);
  }

  /** The manifest's view (no secrets: the key is only named). */
  Map<String, Object> describe() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("backend", local ? "local" : "openai");
    m.put("model", name());
    if (local) {
      m.put("model_dir", modelDir);
    } else {
      m.put("endpoint", endpoint);
      m.put("max_concurrency_per_executor", maxConcurrency);
    }
    m.put("chat", chat);
    m.put("max_new_tokens", maxNewTokens);
    m.put("temperature", temperature);
    return m;
  }
}
