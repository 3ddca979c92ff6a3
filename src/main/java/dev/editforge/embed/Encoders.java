package dev.editforge.embed;

/** Opens the encoder the settings describe and checks it against them before returning it. */
public final class Encoders {
  private Encoders() {}

  /**
   * The configured encoder, after checking that its vector dimension is the configured one; a
   * mismatch closes it and throws, so no text is embedded into the wrong space. The caller owns
   * (and closes) the result.
   */
  public static Encoder open(EmbedSettings s) {
    Encoder e =
        switch (s.engine()) {
          case ONNX -> OnnxMiniLmEncoder.load(s.maxLength(), s.batchSize(), s.maxBatchTokens(), s.engineThreads());
          case PYTORCH -> throw new EmbeddingException("engine pytorch is not available in this build");
        };
    checkDimension(e, s.dimension());
    return e;
  }

  static void checkDimension(Encoder e, int expected) {
    if (expected != 0 && e.dimension() != expected) {
      int actual = e.dimension();
      String name = e.modelName();
      e.close();
      throw new EmbeddingException(
          "encoder " + name + " makes " + actual + "-dimensional vectors but editforge.embed.dimension = "
              + expected + "; fix the setting or the model before embedding anything");
    }
  }
}
