package dev.editforge.llm;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.jni.JniUtils;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * Loads a decoder from a local model directory in Hugging Face layout (config.json, safetensors,
 * tokenizer.json, tokenizer_config.json). Resolving a hub id to such a directory is the hub
 * package's job; this class only takes a {@link Path}.
 */
public final class DecoderLoader {
  private DecoderLoader() {}

  /**
   * Loads with the given compute type (float32; float16 on GPU only). The caller closes the result.
   */
  public static LoadedDecoder load(Path dir, Device device, DataType dtype) {
    DjlOffline.ensure();
    if (!Files.isDirectory(dir)) {
      throw new ModelLoadException(dir, "model directory not found");
    }
    DecoderModel model = DecoderModel.load(dir, device, dtype);
    try {
      LlmTokenizer tokenizer = LlmTokenizer.load(dir);
      if (tokenizer.vocabSize() > model.config().vocabSize()) {
        tokenizer.close();
        throw new ModelLoadException(
            dir.resolve("tokenizer.json"),
            "knows "
                + tokenizer.vocabSize()
                + " tokens but config.json's vocab_size is "
                + model.config().vocabSize());
      }
      Path name = dir.toAbsolutePath().normalize().getFileName();
      return new LoadedDecoder(model, tokenizer, name == null ? dir.toString() : name.toString());
    } catch (RuntimeException e) {
      model.close();
      throw e;
    }
  }

  /**
   * Loads with {@code settings}' dtype ({@code auto}: float16 on GPU, float32 on CPU) and threads.
   */
  public static LoadedDecoder load(Path dir, Device device, LlmSettings settings) {
    DjlOffline.ensure();
    if (settings.threads() > 0) {
      // libtorch's OpenMP pool: on a shared machine fewer threads than cores avoids barrier stalls.
      Engine.getEngine("PyTorch");
      JniUtils.setNumThreads(settings.threads());
    }
    return load(dir, device, dtype(settings.dtype(), device));
  }

  public static DataType dtype(String setting, Device device) {
    return switch (setting) {
      case "float32" -> DataType.FLOAT32;
      case "float16" -> DataType.FLOAT16;
      case "auto" -> device.isGpu() ? DataType.FLOAT16 : DataType.FLOAT32;
      default ->
          throw new IllegalArgumentException(
              "dtype must be auto, float32 or float16, not " + setting);
    };
  }
}
