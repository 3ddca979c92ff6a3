package dev.editforge.spark;

import com.fasterxml.jackson.databind.JsonNode;
import dev.editforge.config.EmbedSettings;
import dev.editforge.config.SettingsException;
import dev.editforge.encoders.Encoder;
import dev.editforge.encoders.EncoderPreset;
import dev.editforge.encoders.OnnxMiniLmEncoder;
import dev.editforge.text.Json;
import java.io.IOException;
import java.io.Serializable;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;

/**
 * {@link EmbedSettings} in a form Spark ships to executors (plain fields), and the per-executor
 * encoder: one instance per JVM for a given model/device/threads (via {@link ExecutorModelCache}),
 * bound to the task's Spark-assigned GPU when it has one and the engine can use it, with engine
 * threads sized to the task's cores when {@code engine-threads = 0}. Immutable.
 */
public final class EncoderSpec implements Serializable {
  private static final long serialVersionUID = 1L;

  private final String model;
  private final String engine;
  private final String preset;
  private final int maxLength;
  private final int batchSize;
  private final int maxBatchTokens;
  private final int engineThreads;
  private final int dimension;
  private final String device;

  public EncoderSpec(EmbedSettings s) {
    this.model = s.model();
    this.engine = s.engine().name();
    this.preset = s.preset().name();
    this.maxLength = s.maxLength();
    this.batchSize = s.batchSize();
    this.maxBatchTokens = s.maxBatchTokens();
    this.engineThreads = s.engineThreads();
    this.dimension = s.dimension();
    this.device = s.device();
  }

  public EmbedSettings settings() {
    return new EmbedSettings(
        model,
        EmbedSettings.Engine.valueOf(engine),
        EncoderPreset.named(preset),
        maxLength,
        batchSize,
        maxBatchTokens,
        engineThreads,
        dimension,
        device);
  }

  public int batchSize() {
    return batchSize;
  }

  /**
   * The encoder of this executor JVM for the running task (shared, thread-safe for the bundled ONNX
   * model; the cache owns it). On the driver it uses the configured device and one thread per core
   * of the task (1).
   */
  public Encoder executorEncoder() {
    EmbedSettings s = settings();
    int threads = TaskResources.engineThreads(engineThreads);
    String dev = device;
    if (s.engine() == EmbedSettings.Engine.PYTORCH) {
      dev = TaskResources.gpu().map(g -> "gpu:" + g).orElse(device);
    }
    EmbedSettings resolved =
        new EmbedSettings(
            model,
            s.engine(),
            s.preset(),
            maxLength,
            batchSize,
            maxBatchTokens,
            threads,
            dimension,
            dev);
    String key =
        String.join(
            "|",
            model,
            engine,
            preset,
            Integer.toString(maxLength),
            Integer.toString(batchSize),
            Integer.toString(maxBatchTokens),
            Integer.toString(threads),
            Integer.toString(dimension),
            dev);
    // The whole configuration is the model part of the key: differently configured encoders
    // coexist.
    return ExecutorModelCache.get(
        new ExecutorModelCache.Key("encoder:" + key, dev, "-", ""),
        () -> Encoders.open(resolved, Encoders.device(resolved.device())));
  }

  /**
   * The encoder's vector size, found without loading weights (the bundled model's is fixed; a BERT
   * directory's is {@code hidden_size} in config.json), so a mismatch with {@code
   * editforge.embed.dimension} fails on the driver before any work starts.
   */
  public static int modelDimension(EmbedSettings s) {
    if (EmbedSettings.BUNDLED_MINILM.equals(s.model())) {
      return OnnxMiniLmEncoder.HIDDEN_SIZE;
    }
    Path config = Paths.get(s.model()).resolve("config.json");
    if (!Files.isRegularFile(config)) {
      throw new SettingsException(
          "editforge.embed.model", s.model(), "a directory with config.json (no " + config + ")");
    }
    try {
      JsonNode n = Json.COMPACT.readTree(config.toFile());
      int d = n.path("hidden_size").asInt(0);
      if (d <= 0) {
        throw new SettingsException(
            "editforge.embed.model", s.model(), "a BERT config.json with hidden_size");
      }
      return d;
    } catch (IOException e) {
      throw new SettingsException(
          "editforge.embed.model", s.model(), "a readable config.json (" + e.getMessage() + ")");
    }
  }

  /** Refuses, before any text is embedded, a model whose dimension disagrees with the setting. */
  public static void checkDimension(EmbedSettings s) {
    int actual = modelDimension(s);
    if (s.dimension() != 0 && s.dimension() != actual) {
      throw new SettingsException(
          "editforge.embed.dimension = "
              + s.dimension()
              + " but "
              + s.model()
              + " makes "
              + actual
              + "-dimensional vectors; fix the setting or the model before embedding anything");
    }
  }
}
