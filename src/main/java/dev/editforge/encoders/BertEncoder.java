package dev.editforge.encoders;

import ai.djl.Device;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Embedding;
import ai.djl.nn.core.Linear;
import ai.djl.nn.norm.LayerNorm;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.JsonNode;
import dev.editforge.llm.ModelLoadException;
import dev.editforge.llm.SafetensorsCheckpoint;
import dev.editforge.text.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * A BERT encoder (BertModel: contriever, e5, bge, MiniLM, ...) run natively on DJL's PyTorch engine
 * from a Hugging Face directory: {@code config.json}, {@code model.safetensors} (or shards) and
 * {@code tokenizer.json}. The forward pass is written out with NDArray operations (embeddings,
 * post-LayerNorm self-attention blocks, exact-erf GELU) so it runs wherever libtorch does, GPU
 * included. Pickle checkpoints are refused (see {@link SafetensorsCheckpoint}).
 *
 * <p>Thread-safe: the weights are read-only and every {@link #encode} call works in its own
 * NDManager, closed when the call ends. The owner closes the encoder, which frees the weights.
 */
public final class BertEncoder extends TransformerEncoder {
  /** What the weights alone cannot say. */
  record Config(
      int vocabSize,
      int hidden,
      int layers,
      int heads,
      int intermediate,
      int maxPositions,
      int typeVocab,
      float layerNormEps) {

    static Config read(Path dir) {
      Path file = dir.resolve("config.json");
      JsonNode c;
      try {
        c = Json.COMPACT.readTree(file.toFile());
      } catch (IOException e) {
        throw new EmbeddingException("cannot read " + file + ": " + e.getMessage(), e);
      }
      String type = c.path("model_type").asText("bert");
      if (!type.equals("bert")) {
        throw new EmbeddingException(
            file + ": model_type " + type + " is not supported by the native encoder (BERT only)");
      }
      String act = c.path("hidden_act").asText("gelu");
      if (!act.equals("gelu")) {
        throw new EmbeddingException(
            file + ": hidden_act " + act + " is not supported (gelu only)");
      }
      Config cfg =
          new Config(
              need(c, "vocab_size", file),
              need(c, "hidden_size", file),
              need(c, "num_hidden_layers", file),
              need(c, "num_attention_heads", file),
              need(c, "intermediate_size", file),
              need(c, "max_position_embeddings", file),
              c.path("type_vocab_size").asInt(2),
              (float) c.path("layer_norm_eps").asDouble(1e-12));
      if (cfg.hidden() % cfg.heads() != 0) {
        throw new EmbeddingException(
            file
                + ": hidden_size "
                + cfg.hidden()
                + " is not divisible by "
                + cfg.heads()
                + " heads");
      }
      return cfg;
    }

    private static int need(JsonNode c, String key, Path file) {
      if (!c.path(key).canConvertToInt()) {
        throw new EmbeddingException(file + " lacks integer \"" + key + "\"");
      }
      return c.get(key).asInt();
    }
  }

  private record Layer(
      NDArray q,
      NDArray qb,
      NDArray k,
      NDArray kb,
      NDArray v,
      NDArray vb,
      NDArray ao,
      NDArray aob,
      NDArray ln1w,
      NDArray ln1b,
      NDArray in,
      NDArray inb,
      NDArray out,
      NDArray outb,
      NDArray ln2w,
      NDArray ln2b) {}

  private final String modelName;
  private final Config config;
  private final NDManager weights;
  private final NDArray wordEmb;
  private final NDArray posEmb;
  private final NDArray typeEmb;
  private final NDArray embLnW;
  private final NDArray embLnB;
  private final List<Layer> layers;

  private BertEncoder(
      HuggingFaceTokenizer tokenizer,
      EncoderPreset preset,
      int maxLength,
      int batchSize,
      int maxBatchTokens,
      String modelName,
      Config config,
      NDManager weights,
      Map<String, NDArray> w,
      String prefix) {
    super(tokenizer, preset, maxLength, batchSize, maxBatchTokens);
    this.modelName = modelName;
    this.config = config;
    this.weights = weights;
    this.wordEmb =
        get(w, prefix + "embeddings.word_embeddings.weight", config.vocabSize(), config.hidden());
    this.posEmb =
        get(
            w,
            prefix + "embeddings.position_embeddings.weight",
            config.maxPositions(),
            config.hidden());
    this.typeEmb =
        get(
            w,
            prefix + "embeddings.token_type_embeddings.weight",
            config.typeVocab(),
            config.hidden());
    this.embLnW = get(w, prefix + "embeddings.LayerNorm.weight", config.hidden());
    this.embLnB = get(w, prefix + "embeddings.LayerNorm.bias", config.hidden());
    List<Layer> ls = new ArrayList<>();
    int h = config.hidden();
    int i4 = config.intermediate();
    for (int l = 0; l < config.layers(); l++) {
      String p = prefix + "encoder.layer." + l + ".";
      ls.add(
          new Layer(
              get(w, p + "attention.self.query.weight", h, h),
                  get(w, p + "attention.self.query.bias", h),
              get(w, p + "attention.self.key.weight", h, h),
                  get(w, p + "attention.self.key.bias", h),
              get(w, p + "attention.self.value.weight", h, h),
                  get(w, p + "attention.self.value.bias", h),
              get(w, p + "attention.output.dense.weight", h, h),
                  get(w, p + "attention.output.dense.bias", h),
              get(w, p + "attention.output.LayerNorm.weight", h),
                  get(w, p + "attention.output.LayerNorm.bias", h),
              get(w, p + "intermediate.dense.weight", i4, h),
                  get(w, p + "intermediate.dense.bias", i4),
              get(w, p + "output.dense.weight", h, i4), get(w, p + "output.dense.bias", h),
              get(w, p + "output.LayerNorm.weight", h), get(w, p + "output.LayerNorm.bias", h)));
    }
    this.layers = List.copyOf(ls);
  }

  /**
   * Loads a Hugging Face BERT directory.
   *
   * @param modelName recorded in manifests; null uses the directory name
   * @param threads libtorch intra-op threads, 0 to leave them alone; libtorch has one pool per
   *     process, so this affects every PyTorch user in the JVM
   */
  public static BertEncoder load(
      Path dir,
      EncoderPreset preset,
      int maxLength,
      int batchSize,
      int maxBatchTokens,
      Device device,
      int threads,
      String modelName) {
    if (Files.isRegularFile(dir.resolve("pytorch_model.bin"))
        && !Files.isRegularFile(dir.resolve("model.safetensors"))
        && !Files.isRegularFile(dir.resolve(SafetensorsCheckpoint.INDEX_FILE))) {
      throw new EmbeddingException(
          dir
              + " only has pytorch_model.bin: pickle checkpoints run arbitrary code when"
              + " loaded and are refused; convert it to model.safetensors first");
    }
    Config cfg = Config.read(dir);
    if (maxLength > cfg.maxPositions()) {
      throw new EmbeddingException(
          "max length "
              + maxLength
              + " exceeds the model's "
              + cfg.maxPositions()
              + " positions ("
              + dir
              + ")");
    }
    if (threads > 0) {
      JniUtils.setNumThreads(threads);
    }
    NDManager weights = NDManager.newBaseManager(device, "PyTorch");
    HuggingFaceTokenizer tokenizer = null;
    try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(dir)) {
      String prefix = ckpt.contains("embeddings.word_embeddings.weight") ? "" : "bert.";
      Map<String, NDArray> w = new java.util.HashMap<>();
      for (String name : ckpt.names()) {
        if (name.startsWith(prefix + "embeddings.") && !name.endsWith("position_ids")
            || name.startsWith(prefix + "encoder.")) {
          w.put(name, ckpt.load(name, weights, DataType.FLOAT32));
        }
      }
      tokenizer =
          HuggingFaceTokenizer.newInstance(
              dir.resolve("tokenizer.json"),
              Map.of("addSpecialTokens", "true", "truncation", "false", "padding", "false"));
      String name = modelName != null ? modelName : dir.getFileName().toString();
      return new BertEncoder(
          tokenizer, preset, maxLength, batchSize, maxBatchTokens, name, cfg, weights, w, prefix);
    } catch (IOException | RuntimeException e) {
      weights.close();
      if (tokenizer != null) {
        tokenizer.close();
      }
      if (e instanceof EmbeddingException ee) {
        throw ee;
      }
      if (e instanceof ModelLoadException mle) {
        throw new EmbeddingException(
            "cannot load BERT weights from " + dir + ": " + mle.getMessage(), mle);
      }
      throw new EmbeddingException(
          "cannot load BERT encoder from " + dir + ": " + e.getMessage(), e);
    }
  }

  private static NDArray get(Map<String, NDArray> w, String name, long... shape) {
    NDArray a = w.get(name);
    if (a == null) {
      throw new EmbeddingException("BERT checkpoint lacks " + name);
    }
    if (!a.getShape().equals(new Shape(shape))) {
      throw new EmbeddingException(
          "BERT weight "
              + name
              + " has shape "
              + a.getShape()
              + " but config.json implies "
              + new Shape(shape));
    }
    return a;
  }

  @Override
  protected int hiddenSize() {
    return config.hidden();
  }

  @Override
  public String modelName() {
    return modelName;
  }

  @Override
  protected float[] forward(long[] inputIds, long[] attentionMask, int batch, int seqLen) {
    int h = config.hidden();
    int heads = config.heads();
    int d = h / heads;
    try (NDManager m = weights.newSubManager()) {
      NDArray ids = m.create(inputIds, new Shape(batch, seqLen));
      NDArray x = Embedding.embedding(ids, wordEmb, SparseFormat.DENSE).singletonOrThrow();
      // Slices of weights would belong to the weights' manager and outlive the call: move them
      // here.
      NDArray pos = posEmb.get(new NDIndex("0:{}", seqLen));
      pos.attach(m);
      NDArray type0 = typeEmb.get(0);
      type0.attach(m);
      x = x.add(pos).add(type0);
      x =
          LayerNorm.layerNorm(x, new Shape(h), embLnW, embLnB, config.layerNormEps())
              .singletonOrThrow();

      float[] maskBias = new float[attentionMask.length];
      for (int i = 0; i < maskBias.length; i++) {
        maskBias[i] = attentionMask[i] == 1 ? 0f : -1e9f;
      }
      NDArray bias = m.create(maskBias, new Shape(batch, 1, 1, seqLen));
      float scale = (float) (1.0 / Math.sqrt(d));
      for (Layer l : layers) {
        NDArray q =
            heads(Linear.linear(x, l.q(), l.qb()).singletonOrThrow(), batch, seqLen, heads, d);
        NDArray k =
            heads(Linear.linear(x, l.k(), l.kb()).singletonOrThrow(), batch, seqLen, heads, d);
        NDArray v =
            heads(Linear.linear(x, l.v(), l.vb()).singletonOrThrow(), batch, seqLen, heads, d);
        NDArray scores = q.matMul(k.transpose(0, 1, 3, 2)).mul(scale).add(bias);
        NDArray ctx = scores.softmax(-1).matMul(v).transpose(0, 2, 1, 3).reshape(batch, seqLen, h);
        NDArray attn = Linear.linear(ctx, l.ao(), l.aob()).singletonOrThrow();
        x =
            LayerNorm.layerNorm(
                    attn.add(x), new Shape(h), l.ln1w(), l.ln1b(), config.layerNormEps())
                .singletonOrThrow();
        NDArray inner = Activation.gelu(Linear.linear(x, l.in(), l.inb()).singletonOrThrow());
        NDArray out = Linear.linear(inner, l.out(), l.outb()).singletonOrThrow();
        x =
            LayerNorm.layerNorm(out.add(x), new Shape(h), l.ln2w(), l.ln2b(), config.layerNormEps())
                .singletonOrThrow();
      }
      return x.toFloatArray();
    }
  }

  /** [batch, seq, hidden] to [batch, heads, seq, headDim]. */
  private static NDArray heads(NDArray t, int batch, int seqLen, int heads, int d) {
    return t.reshape(batch, seqLen, heads, d).transpose(0, 2, 1, 3);
  }

  @Override
  public void close() {
    weights.close();
    tokenizer().close();
  }

  /**
   * The bundled MiniLM, exported to {@code dir} and run natively (same vectors as {@link
   * OnnxMiniLmEncoder}).
   */
  public static BertEncoder bundledMiniLm(
      Path dir, int maxLength, int batchSize, int maxBatchTokens, Device device, int threads) {
    BundledMiniLmExport.write(dir);
    return load(
        dir,
        EncoderPreset.MINILM,
        maxLength,
        batchSize,
        maxBatchTokens,
        device,
        threads,
        OnnxMiniLmEncoder.MODEL_NAME);
  }
}
