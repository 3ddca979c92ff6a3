package dev.editforge.config;

import dev.editforge.encoders.EncoderPreset;

/**
 * How passages and queries are embedded ({@code editforge.embed}).
 *
 * @param model {@link #BUNDLED_MINILM} or a local Hugging Face BERT directory (config.json,
 *     model.safetensors, tokenizer.json)
 * @param engine onnx (bundled model only) or pytorch (native BERT on DJL's PyTorch engine)
 * @param preset pooling, normalization, prefixes and similarity; must fit the model
 * @param maxLength tokens per text including special tokens; longer texts are cut and counted
 * @param batchSize texts per forward pass
 * @param maxBatchTokens padded token slots per forward pass, bounding attention memory
 * @param engineThreads intra-op threads per encoder (0: the engine's default, all cores); on Spark,
 *     threads times concurrent tasks should not exceed the executor's cores
 * @param dimension the vector size the pipeline expects (0: accept the model's); a model that
 *     disagrees is refused when it is opened, before any text is embedded
 * @param device cpu, gpu or gpu:N (pytorch engine only)
 */
public record EmbedSettings(
    String model,
    Engine engine,
    EncoderPreset preset,
    int maxLength,
    int batchSize,
    int maxBatchTokens,
    int engineThreads,
    int dimension,
    String device) {

  public static final String BUNDLED_MINILM = "bundled-minilm";

  public enum Engine {
    ONNX,
    PYTORCH
  }

  public EmbedSettings {
    if (engine == Engine.ONNX && !BUNDLED_MINILM.equals(model)) {
      throw new IllegalArgumentException(
          "engine onnx runs only the bundled model ("
              + BUNDLED_MINILM
              + "); use engine pytorch for "
              + model);
    }
    if (BUNDLED_MINILM.equals(model) && !preset.name().equals(EncoderPreset.MINILM.name())) {
      throw new IllegalArgumentException(
          "the bundled MiniLM was trained with the minilm preset, not " + preset.name());
    }
    if (!device.equals("cpu") && !device.matches("gpu(:\\d+)?")) {
      throw new IllegalArgumentException("device must be cpu, gpu or gpu:N, got " + device);
    }
    if (engine == Engine.ONNX && !device.equals("cpu")) {
      throw new IllegalArgumentException(
          "the onnx engine here is CPU-only; use engine pytorch on a GPU");
    }
  }

  /** DESIGN's measured setup: the bundled MiniLM on ONNX Runtime, 256 tokens. */
  public static EmbedSettings bundledMiniLm(int maxLength) {
    return new EmbedSettings(
        BUNDLED_MINILM, Engine.ONNX, EncoderPreset.MINILM, maxLength, 32, 16384, 0, 384, "cpu");
  }

  public static EmbedSettings from(ConfigReader r) {
    String model = r.nonEmpty("model");
    Engine engine = r.enumValue("engine", Engine.class);
    String presetName = r.string("preset");
    EncoderPreset preset;
    try {
      preset = EncoderPreset.named(presetName);
    } catch (IllegalArgumentException e) {
      throw new SettingsException(
          r.full("preset"),
          presetName,
          "must be one of "
              + String.join(", ", new java.util.TreeSet<>(EncoderPreset.all().keySet())));
    }
    if (engine == Engine.ONNX && !BUNDLED_MINILM.equals(model)) {
      throw new SettingsException(
          r.full("model"),
          model,
          "engine = onnx runs only "
              + BUNDLED_MINILM
              + "; set engine = pytorch for a BERT directory");
    }
    if (BUNDLED_MINILM.equals(model) && preset != EncoderPreset.MINILM) {
      throw new SettingsException(
          r.full("preset"), presetName, "the bundled MiniLM needs preset minilm");
    }
    String device = r.string("device");
    if (!device.equals("cpu") && !device.matches("gpu(:\\d+)?")) {
      throw new SettingsException(r.full("device"), device, "must be cpu, gpu or gpu:N");
    }
    if (engine == Engine.ONNX && !device.equals("cpu")) {
      throw new SettingsException(
          r.full("device"), device, "engine = onnx is CPU-only here; use engine = pytorch");
    }
    return new EmbedSettings(
        model,
        engine,
        preset,
        r.integer("max-length", 3, 8192),
        r.integer("batch-size", 1, 4096),
        r.integer("max-batch-tokens", 16, 16_777_216),
        r.integer("engine-threads", 0, 1024),
        r.integer("dimension", 0, 65536),
        device);
  }
}
