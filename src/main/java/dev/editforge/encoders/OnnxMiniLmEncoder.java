package dev.editforge.encoders;

import ai.djl.Device;
import ai.djl.MalformedModelException;
import ai.djl.Model;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.inference.Predictor;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import ai.djl.translate.Batchifier;
import ai.djl.translate.TranslateException;
import ai.djl.translate.Translator;
import ai.djl.translate.TranslatorContext;
import java.io.IOException;
import java.io.InputStream;
import java.util.Map;

/**
 * The bundled all-MiniLM-L6-v2 sentence encoder (384 dimensions, mean pooling, normalized, cosine)
 * on DJL's OnnxRuntime engine, loaded from the classpath resources the build unpacks.
 *
 * <p>Thread-safe: an ONNX Runtime session may run concurrently, every {@link #encode} call makes
 * its own (cheap) predictor, and the tokenizer is only read. One instance per executor JVM is the
 * intended use; its owner closes it, which frees the native session.
 */
public final class OnnxMiniLmEncoder extends TransformerEncoder {
  public static final String MODEL_NAME = "sentence-transformers/all-MiniLM-L6-v2";
  public static final String ONNX_RESOURCE = "editforge/minilm/all-minilm-l6-v2.onnx";
  public static final String TOKENIZER_RESOURCE =
      "editforge/minilm/all-minilm-l6-v2-tokenizer.json";

  /** The model's learned position table has 512 rows; longer inputs cannot be represented. */
  public static final int MAX_POSITIONS = 512;

  public static final int HIDDEN_SIZE = 384;

  private final Model model;
  private final int hiddenSize;

  private OnnxMiniLmEncoder(
      HuggingFaceTokenizer tokenizer,
      Model model,
      int maxLength,
      int batchSize,
      int maxBatchTokens) {
    super(tokenizer, EncoderPreset.MINILM, maxLength, batchSize, maxBatchTokens);
    this.model = model;
    // Asking the model beats trusting a constant: a swapped ONNX file shows up here, not as a
    // dimension mismatch deep inside indexing.
    this.hiddenSize = probeHiddenSize();
  }

  /**
   * Loads the bundled model.
   *
   * @param maxLength tokens per text including [CLS]/[SEP], at most {@link #MAX_POSITIONS}
   * @param batchSize texts per forward pass
   * @param maxBatchTokens padded token slots per forward pass (caps attention memory for long
   *     texts)
   * @param threads ONNX Runtime intra-op threads; 0 lets ONNX Runtime use every core
   */
  public static OnnxMiniLmEncoder load(
      int maxLength, int batchSize, int maxBatchTokens, int threads) {
    if (maxLength > MAX_POSITIONS) {
      throw new EmbeddingException(
          "max length "
              + maxLength
              + " exceeds all-MiniLM-L6-v2's "
              + MAX_POSITIONS
              + " positions");
    }
    if (threads < 0) {
      throw new EmbeddingException("engine threads must be >= 0, got " + threads);
    }
    HuggingFaceTokenizer tokenizer = null;
    Model model = null;
    try {
      tokenizer = openTokenizer(TOKENIZER_RESOURCE);
      model = Model.newInstance("all-minilm-l6-v2", Device.cpu(), "OnnxRuntime");
      try (InputStream in = resource(ONNX_RESOURCE)) {
        // DJL only applies intraOpNumThreads when interOpNumThreads is given as well.
        model.load(
            in, Map.of("interOpNumThreads", "1", "intraOpNumThreads", Integer.toString(threads)));
      }
      return new OnnxMiniLmEncoder(tokenizer, model, maxLength, batchSize, maxBatchTokens);
    } catch (IOException | MalformedModelException | RuntimeException e) {
      if (model != null) {
        model.close();
      }
      if (tokenizer != null) {
        tokenizer.close();
      }
      if (e instanceof EmbeddingException ee) {
        throw ee;
      }
      throw new EmbeddingException("cannot load the bundled MiniLM encoder: " + e.getMessage(), e);
    }
  }

  /**
   * A tokenizer that neither pads nor truncates: the encoder does both itself, so it can count
   * truncations and pad per micro-batch (the bundled tokenizer.json would pad everything to 128).
   */
  static HuggingFaceTokenizer openTokenizer(String resource) throws IOException {
    try (InputStream in = resource(resource)) {
      return HuggingFaceTokenizer.newInstance(
          in, Map.of("addSpecialTokens", "true", "truncation", "false", "padding", "false"));
    }
  }

  static InputStream resource(String name) throws IOException {
    InputStream in = OnnxMiniLmEncoder.class.getClassLoader().getResourceAsStream(name);
    if (in == null) {
      throw new IOException(
          "classpath resource "
              + name
              + " is missing: the build unpacks it (mvn generate-resources)");
    }
    return in;
  }

  private int probeHiddenSize() {
    float[] states = run(new long[] {101, 102}, new long[] {1, 1}, 1, 2);
    if (states.length == 0 || states.length % 2 != 0) {
      throw new EmbeddingException(
          "the MiniLM ONNX model returned " + states.length + " values for 2 tokens");
    }
    return states.length / 2;
  }

  @Override
  protected int hiddenSize() {
    return hiddenSize;
  }

  @Override
  public String modelName() {
    return MODEL_NAME;
  }

  @Override
  protected float[] forward(long[] inputIds, long[] attentionMask, int batch, int seqLen) {
    return run(inputIds, attentionMask, batch, seqLen);
  }

  private float[] run(long[] inputIds, long[] attentionMask, int batch, int seqLen) {
    try (Predictor<PaddedBatch, float[]> predictor = model.newPredictor(new HiddenStates())) {
      return predictor.predict(new PaddedBatch(inputIds, attentionMask, batch, seqLen));
    } catch (TranslateException e) {
      throw new EmbeddingException("MiniLM forward pass failed: " + e.getMessage(), e);
    }
  }

  @Override
  public void close() {
    model.close();
    tokenizer().close();
  }

  private record PaddedBatch(long[] ids, long[] mask, int batch, int seqLen) {}

  /** Feeds one padded batch by input name and reads back last_hidden_state. */
  private static final class HiddenStates implements Translator<PaddedBatch, float[]> {
    @Override
    public NDList processInput(TranslatorContext ctx, PaddedBatch in) {
      NDManager m = ctx.getNDManager();
      Shape shape = new Shape(in.batch(), in.seqLen());
      NDArray ids = m.create(in.ids(), shape);
      ids.setName("input_ids");
      NDArray mask = m.create(in.mask(), shape);
      mask.setName("attention_mask");
      NDArray types = m.create(new long[in.ids().length], shape);
      types.setName("token_type_ids");
      return new NDList(ids, mask, types);
    }

    @Override
    public float[] processOutput(TranslatorContext ctx, NDList out) {
      NDArray hidden = out.get("last_hidden_state");
      return (hidden != null ? hidden : out.get(0)).toFloatArray();
    }

    @Override
    public Batchifier getBatchifier() {
      return null;
    }
  }
}
