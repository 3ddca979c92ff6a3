package dev.editforge.generate;

import ai.djl.Device;
import dev.editforge.config.GenerateSettings;
import dev.editforge.llm.DecoderLoader;
import dev.editforge.llm.LlmSettings;
import dev.editforge.llm.LoadedDecoder;
import dev.editforge.llm.LocalGenerator;
import dev.editforge.llm.TextGenerator;
import dev.editforge.llm.remote.OpenAiClient;
import dev.editforge.llm.remote.OpenAiGenerator;
import dev.editforge.llm.remote.RemoteSettings;
import dev.editforge.spark.ExecutorModelCache;
import dev.editforge.spark.ModelDirs;
import dev.editforge.spark.RemoteModelCache;
import dev.editforge.spark.TaskResources;
import java.io.Serializable;
import java.net.URI;
import java.nio.file.Path;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What an executor needs to build the generator of a task, shipped from the driver: the backend,
 * the resolved model directory (local) or the server settings (openai), and the batching knobs.
 * {@link #open()} returns a generator for the calling task thread; the expensive parts (the loaded
 * decoder, the HTTP client with its concurrency cap) are shared per executor JVM through {@link
 * ExecutorModelCache}, so a model is loaded once per executor, never per task or partition.
 */
public record GeneratorSpec(
    String backend,
    String modelDir,
    String modelName,
    boolean chat,
    int batchSize,
    int maxBatchSize,
    int contextWindow,
    boolean truncatePrompt,
    String chatTemplate,
    String dtype,
    int threads,
    int maxKvCacheMb,
    boolean wantsGpu,
    int emptyRetries,
    // openai
    String endpoint,
    String remoteModel,
    String apiKeyEnv,
    int maxConcurrency,
    long connectTimeoutMs,
    long requestTimeoutMs,
    int maxRetries,
    long initialBackoffMs,
    long maxBackoffMs,
    long maxRowMs)
    implements Serializable {

  private static final Logger LOG = LoggerFactory.getLogger(GeneratorSpec.class);
  private static final java.util.Set<String> LOGGED_BINDINGS =
      java.util.concurrent.ConcurrentHashMap.newKeySet();

  /**
   * The spec of {@code settings}; {@code modelDir} is the resolved local directory (null for
   * openai).
   */
  public static GeneratorSpec of(
      GenerateSettings g, LlmSettings l, RemoteSettings r, Path modelDir, String modelName) {
    return ofRef(g, l, r, modelDir == null ? null : modelDir.toString(), modelName);
  }

  /**
   * The spec of {@code settings} with {@code modelDir} as written: a local directory or a Hadoop
   * URI that each executor copies once into its local model cache.
   */
  public static GeneratorSpec ofRef(
      GenerateSettings g, LlmSettings l, RemoteSettings r, String modelDir, String modelName) {
    return new GeneratorSpec(
        g.backend(),
        modelDir,
        modelName,
        g.chat(),
        g.batchSize(),
        l.maxBatchSize(),
        l.contextWindow(),
        l.truncatePrompt(),
        l.chatTemplate(),
        l.dtype(),
        l.threads(),
        l.maxKvCacheMb(),
        g.gpusPerTask() > 0,
        g.emptyRetries(),
        r.endpoint().toString(),
        !g.local() && !g.model().isEmpty() ? g.model() : r.model(),
        r.apiKeyEnv(),
        r.maxConcurrency(),
        r.connectTimeout().toMillis(),
        r.requestTimeout().toMillis(),
        r.maxRetries(),
        r.initialBackoff().toMillis(),
        r.maxBackoff().toMillis(),
        r.maxRowTime().toMillis());
  }

  public boolean local() {
    return backend.equals("local");
  }

  public RemoteSettings remote() {
    return new RemoteSettings(
        URI.create(endpoint),
        remoteModel,
        apiKeyEnv,
        maxConcurrency,
        Duration.ofMillis(connectTimeoutMs),
        Duration.ofMillis(requestTimeoutMs),
        maxRetries,
        Duration.ofMillis(initialBackoffMs),
        Duration.ofMillis(maxBackoffMs),
        Duration.ofMillis(maxRowMs));
  }

  /** The local runtime's settings ({@code editforge.llm}). */
  public LlmSettings llm() {
    return new LlmSettings(
        maxBatchSize, contextWindow, truncatePrompt, chatTemplate, dtype, threads, maxKvCacheMb);
  }

  /** The device of the calling task ({@link TaskResources#bind}); remote backends use none. */
  public TaskResources.Binding bind() {
    return local()
        ? TaskResources.bind(wantsGpu, "generate")
        : new TaskResources.Binding(null, Device.cpu());
  }

  /**
   * The cache key of this spec's decoder on {@code binding}'s device. The variant is prefixed
   * {@code generate:} so another stage's instance of the same model (for example with adapters) is
   * never handed out as a decoder here.
   */
  public ExecutorModelCache.Key decoderKey(TaskResources.Binding binding) {
    return new ExecutorModelCache.Key(
        modelDir, binding.device().toString(), dtype, "generate:decoder threads=" + threads);
  }

  /**
   * A generator for the calling task thread on {@code binding}'s device. Close it after the task;
   * the shared decoder or client stays in the executor's cache.
   */
  public TextGenerator open(TaskResources.Binding binding) {
    if (local() && LOGGED_BINDINGS.add(modelDir + " " + binding.describe())) {
      LOG.info(
          "generate: executor {} runs {} with {}",
          org.apache.spark.SparkEnv.get() == null
              ? "driver"
              : org.apache.spark.SparkEnv.get().executorId(),
          modelName,
          binding.describe());
    }
    if (local()) {
      LlmSettings llm = llm();
      LoadedDecoder decoder =
          ExecutorModelCache.get(
              decoderKey(binding),
              () -> DecoderLoader.load(localModelDir(), binding.device(), llm));
      return new LocalGenerator(decoder, llm, false);
    }
    RemoteSettings r = remote();
    OpenAiClient client =
        ExecutorModelCache.get(
            new ExecutorModelCache.Key("openai:" + endpoint, "remote", "-", "generate:client " + r),
            () -> new OpenAiClient(r));
    return new OpenAiGenerator(client, remoteModel);
  }

  /** The model's local directory: copied into this machine's model cache if it is a URI. */
  Path localModelDir() {
    return RemoteModelCache.isHadoopUri(modelDir)
        ? ModelDirs.localize(modelDir, LOG::info)
        : Path.of(modelDir);
  }

  /** The manifest's view of this spec (no secrets: the key is only named). */
  public Map<String, Object> describe() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("backend", backend);
    m.put("model", modelName);
    if (local()) {
      m.put("model_dir", modelDir);
      m.put("dtype", dtype);
      m.put("threads", threads);
      m.put("max_batch_size", maxBatchSize);
    } else {
      m.put("endpoint", endpoint);
      m.put("max_concurrency_per_executor", maxConcurrency);
    }
    m.put("chat", chat);
    m.put("batch_size", batchSize);
    m.put("empty_retries", emptyRetries);
    return m;
  }
}
