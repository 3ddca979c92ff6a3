package dev.editforge.spark;

import ai.djl.Device;
import dev.editforge.config.EmbedSettings;
import dev.editforge.encoders.BertEncoder;
import dev.editforge.encoders.EmbeddingException;
import dev.editforge.encoders.Encoder;
import dev.editforge.encoders.OnnxMiniLmEncoder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.Comparator;
import java.util.stream.Stream;

/** Opens the encoder the settings describe and checks it against them before returning it. */
public final class Encoders {
  private Encoders() {}

  /**
   * The configured encoder, after checking that its vector dimension is the configured one; a
   * mismatch closes it and throws, so no text is embedded into the wrong space. The caller owns
   * (and closes) the result. On executors with Spark-assigned GPUs, pass the assigned device with
   * {@link #open(EmbedSettings, Device)} instead of relying on the configured one.
   */
  public static Encoder open(EmbedSettings s) {
    return open(s, device(s.device()));
  }

  public static Encoder open(EmbedSettings s, Device device) {
    Encoder e =
        switch (s.engine()) {
          case ONNX ->
              OnnxMiniLmEncoder.load(
                  s.maxLength(), s.batchSize(), s.maxBatchTokens(), s.engineThreads());
          case PYTORCH ->
              EmbedSettings.BUNDLED_MINILM.equals(s.model())
                  ? nativeBundled(s, device)
                  : BertEncoder.load(
                      Paths.get(s.model()),
                      s.preset(),
                      s.maxLength(),
                      s.batchSize(),
                      s.maxBatchTokens(),
                      device,
                      s.engineThreads(),
                      null);
        };
    checkDimension(e, s.dimension());
    return e;
  }

  /**
   * The bundled model on PyTorch: exported to a scratch directory, loaded, and the files removed.
   */
  private static Encoder nativeBundled(EmbedSettings s, Device device) {
    Path tmp = null;
    try {
      tmp = Files.createTempDirectory("editforge-minilm-");
      return BertEncoder.bundledMiniLm(
          tmp, s.maxLength(), s.batchSize(), s.maxBatchTokens(), device, s.engineThreads());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot create a scratch directory for the MiniLM export", e);
    } finally {
      if (tmp != null) {
        deleteTree(tmp);
      }
    }
  }

  static Device device(String name) {
    if (name.equals("cpu")) {
      return Device.cpu();
    }
    if (name.equals("gpu")) {
      return Device.gpu();
    }
    return Device.gpu(Integer.parseInt(name.substring("gpu:".length())));
  }

  static void checkDimension(Encoder e, int expected) {
    if (expected != 0 && e.dimension() != expected) {
      int actual = e.dimension();
      String name = e.modelName();
      e.close();
      throw new EmbeddingException(
          "encoder "
              + name
              + " makes "
              + actual
              + "-dimensional vectors but editforge.embed.dimension = "
              + expected
              + "; fix the setting or the model before embedding anything");
    }
  }

  private static void deleteTree(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException ignored) {
      // A leftover scratch export only costs disk space in the temp directory.
    }
  }
}
