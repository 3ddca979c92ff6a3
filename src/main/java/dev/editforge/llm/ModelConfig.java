package dev.editforge.llm;

import com.fasterxml.jackson.databind.JsonNode;
import dev.editforge.text.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The architecture of a decoder, read from a Hugging Face {@code config.json} (plus the stop ids of
 * {@code generation_config.json}). Supported {@code model_type}s: {@link #SUPPORTED_TYPES}.
 *
 * @param qkvBias whether q/k/v projections carry a bias (always for qwen2; {@code attention_bias}
 *     for llama, where it also covers o_proj)
 * @param oBias whether o_proj carries a bias
 * @param mlpBias whether gate/up/down projections carry a bias ({@code mlp_bias}, llama only)
 * @param slidingWindow attention window in tokens for Mistral v0.1-style models; 0 = unlimited
 * @param eosTokenIds every id that ends generation: config.json's and generation_config.json's
 * @param bosTokenId -1 when the config names none
 */
public record ModelConfig(
    String modelType,
    int vocabSize,
    int hiddenSize,
    int intermediateSize,
    int numHiddenLayers,
    int numAttentionHeads,
    int numKeyValueHeads,
    int headDim,
    double rmsNormEps,
    double ropeTheta,
    RopeScaling ropeScaling,
    int maxPositionEmbeddings,
    boolean tieWordEmbeddings,
    boolean qkvBias,
    boolean oBias,
    boolean mlpBias,
    int slidingWindow,
    int bosTokenId,
    List<Integer> eosTokenIds) {

  public static final List<String> SUPPORTED_TYPES = List.of("llama", "qwen2", "mistral", "gpt2");
  public static final List<String> SUPPORTED_ROPE_SCALING = List.of("llama3", "linear");

  /**
   * RoPE frequency scaling. {@code llama3}: Llama 3.1's wavelength-dependent interpolation; {@code
   * linear}: positions divided by {@code factor}.
   */
  public record RopeScaling(
      String type,
      double factor,
      double lowFreqFactor,
      double highFreqFactor,
      int originalMaxPositionEmbeddings) {}

  public ModelConfig {
    eosTokenIds = List.copyOf(eosTokenIds);
  }

  public ModelConfig withMaxPositionEmbeddings(int n) {
    return new ModelConfig(
        modelType,
        vocabSize,
        hiddenSize,
        intermediateSize,
        numHiddenLayers,
        numAttentionHeads,
        numKeyValueHeads,
        headDim,
        rmsNormEps,
        ropeTheta,
        ropeScaling,
        n,
        tieWordEmbeddings,
        qkvBias,
        oBias,
        mlpBias,
        slidingWindow,
        bosTokenId,
        eosTokenIds);
  }

  public ModelConfig withRopeScaling(RopeScaling scaling) {
    return new ModelConfig(
        modelType,
        vocabSize,
        hiddenSize,
        intermediateSize,
        numHiddenLayers,
        numAttentionHeads,
        numKeyValueHeads,
        headDim,
        rmsNormEps,
        ropeTheta,
        scaling,
        maxPositionEmbeddings,
        tieWordEmbeddings,
        qkvBias,
        oBias,
        mlpBias,
        slidingWindow,
        bosTokenId,
        eosTokenIds);
  }

  public ModelConfig withTieWordEmbeddings(boolean tie) {
    return new ModelConfig(
        modelType,
        vocabSize,
        hiddenSize,
        intermediateSize,
        numHiddenLayers,
        numAttentionHeads,
        numKeyValueHeads,
        headDim,
        rmsNormEps,
        ropeTheta,
        ropeScaling,
        maxPositionEmbeddings,
        tie,
        qkvBias,
        oBias,
        mlpBias,
        slidingWindow,
        bosTokenId,
        eosTokenIds);
  }

  public ModelConfig withSlidingWindow(int window) {
    return new ModelConfig(
        modelType,
        vocabSize,
        hiddenSize,
        intermediateSize,
        numHiddenLayers,
        numAttentionHeads,
        numKeyValueHeads,
        headDim,
        rmsNormEps,
        ropeTheta,
        ropeScaling,
        maxPositionEmbeddings,
        tieWordEmbeddings,
        qkvBias,
        oBias,
        mlpBias,
        window,
        bosTokenId,
        eosTokenIds);
  }

  /** Same architecture with a different shape (used to build benchmark and test models). */
  public ModelConfig withShape(
      int vocab,
      int hidden,
      int intermediate,
      int layers,
      int heads,
      int kvHeads,
      int headDimension) {
    return new ModelConfig(
        modelType,
        vocab,
        hidden,
        intermediate,
        layers,
        heads,
        kvHeads,
        headDimension,
        rmsNormEps,
        ropeTheta,
        ropeScaling,
        maxPositionEmbeddings,
        tieWordEmbeddings,
        qkvBias,
        oBias,
        mlpBias,
        slidingWindow,
        bosTokenId,
        eosTokenIds);
  }

  /**
   * GPT-2 (learned positions, LayerNorm, fused {@code c_attn}, Conv1D): see {@link Gpt2Layout}. Its
   * LayerNorm epsilon is {@link #rmsNormEps()}, {@code n_positions} is {@link
   * #maxPositionEmbeddings()}.
   */
  public boolean isGpt2() {
    return modelType.equals("gpt2");
  }

  /** Parameters that carry weights, excluding the tied lm_head. */
  public long parameterCount() {
    if (isGpt2()) {
      return Gpt2Layout.parameterCount(this);
    }
    long h = hiddenSize;
    long q = (long) numAttentionHeads * headDim;
    long kv = (long) numKeyValueHeads * headDim;
    long attn = h * q + 2 * h * kv + q * h + (qkvBias ? q + 2 * kv : 0) + (oBias ? h : 0);
    long mlp = 3 * h * intermediateSize + (mlpBias ? 2L * intermediateSize + h : 0);
    long layer = attn + mlp + 2 * h;
    long embed = (long) vocabSize * h;
    return embed + numHiddenLayers * layer + h + (tieWordEmbeddings ? 0 : embed);
  }

  /** Reads {@code dir/config.json} and, when present, {@code dir/generation_config.json}. */
  public static ModelConfig load(Path dir) {
    Path file = dir.resolve("config.json");
    JsonNode root = readJson(file, true);
    JsonNode gen = readJson(dir.resolve("generation_config.json"), false);
    return parse(file, root, gen);
  }

  /** Parses an already-read config; {@code generation} may be null. */
  public static ModelConfig parse(Path file, JsonNode root, JsonNode generation) {
    if (root == null || !root.isObject()) {
      throw new ModelLoadException(file, "is not a JSON object");
    }
    String type = root.path("model_type").asText("");
    if (!SUPPORTED_TYPES.contains(type)) {
      throw new ModelLoadException(
          file,
          "model_type \""
              + type
              + "\" is not supported; supported decoder types: "
              + String.join(", ", SUPPORTED_TYPES));
    }
    if (type.equals("gpt2")) {
      return Gpt2Layout.parseConfig(file, root, generation);
    }
    int hidden = positive(file, root, "hidden_size");
    int heads = positive(file, root, "num_attention_heads");
    int kvHeads =
        root.hasNonNull("num_key_value_heads")
            ? positive(file, root, "num_key_value_heads")
            : heads;
    if (heads % kvHeads != 0) {
      throw new ModelLoadException(
          file,
          "num_attention_heads " + heads + " is not a multiple of num_key_value_heads " + kvHeads);
    }
    int headDim;
    if (root.hasNonNull("head_dim")) {
      headDim = positive(file, root, "head_dim");
    } else {
      if (hidden % heads != 0) {
        throw new ModelLoadException(
            file, "hidden_size " + hidden + " is not a multiple of num_attention_heads " + heads);
      }
      headDim = hidden / heads;
    }
    if (headDim % 2 != 0) {
      throw new ModelLoadException(
          file, "head_dim " + headDim + " must be even for rotary embeddings");
    }
    String act = root.path("hidden_act").asText("silu");
    if (!act.equals("silu") && !act.equals("swish")) {
      throw new ModelLoadException(file, "hidden_act \"" + act + "\" is not supported (silu only)");
    }
    boolean isQwen = type.equals("qwen2");
    boolean attentionBias = root.path("attention_bias").asBoolean(false);
    boolean qkvBias = isQwen || (type.equals("llama") && attentionBias);
    boolean oBias = type.equals("llama") && attentionBias;
    boolean mlpBias = type.equals("llama") && root.path("mlp_bias").asBoolean(false);
    int sliding = 0;
    if (type.equals("mistral") && root.hasNonNull("sliding_window")) {
      sliding = positive(file, root, "sliding_window");
    }
    int bos = root.hasNonNull("bos_token_id") ? root.get("bos_token_id").asInt() : -1;
    Set<Integer> eos = new LinkedHashSet<>();
    addIds(root.get("eos_token_id"), eos);
    if (generation != null) {
      addIds(generation.get("eos_token_id"), eos);
      if (bos < 0 && generation.hasNonNull("bos_token_id")) {
        bos = generation.get("bos_token_id").asInt();
      }
    }
    return new ModelConfig(
        type,
        positive(file, root, "vocab_size"),
        hidden,
        positive(file, root, "intermediate_size"),
        positive(file, root, "num_hidden_layers"),
        heads,
        kvHeads,
        headDim,
        positiveDouble(file, root, "rms_norm_eps", 1e-6),
        positiveDouble(file, root, "rope_theta", 10000.0),
        ropeScaling(file, root.get("rope_scaling")),
        root.hasNonNull("max_position_embeddings")
            ? positive(file, root, "max_position_embeddings")
            : 2048,
        root.path("tie_word_embeddings").asBoolean(false),
        qkvBias,
        oBias,
        mlpBias,
        sliding,
        bos,
        new ArrayList<>(eos));
  }

  private static RopeScaling ropeScaling(Path file, JsonNode node) {
    if (node == null || node.isNull()) {
      return null;
    }
    String type =
        node.hasNonNull("rope_type")
            ? node.get("rope_type").asText()
            : node.path("type").asText("");
    if (type.equals("default")) {
      return null;
    }
    if (!SUPPORTED_ROPE_SCALING.contains(type)) {
      throw new ModelLoadException(
          file,
          "rope_scaling type \""
              + type
              + "\" is not supported; supported: "
              + String.join(", ", SUPPORTED_ROPE_SCALING));
    }
    double factor = positiveDouble(file, node, "factor", Double.NaN);
    if (Double.isNaN(factor)) {
      throw new ModelLoadException(file, "rope_scaling needs a factor");
    }
    if (type.equals("linear")) {
      return new RopeScaling(type, factor, 0, 0, 0);
    }
    double low = positiveDouble(file, node, "low_freq_factor", 1.0);
    double high = positiveDouble(file, node, "high_freq_factor", 4.0);
    if (high <= low) {
      throw new ModelLoadException(
          file, "rope_scaling high_freq_factor must exceed low_freq_factor");
    }
    int original =
        node.hasNonNull("original_max_position_embeddings")
            ? positive(file, node, "original_max_position_embeddings")
            : 8192;
    return new RopeScaling(type, factor, low, high, original);
  }

  static void addIds(JsonNode node, Set<Integer> out) {
    if (node == null || node.isNull()) {
      return;
    }
    if (node.isArray()) {
      node.forEach(n -> out.add(n.asInt()));
    } else if (node.canConvertToInt()) {
      out.add(node.asInt());
    }
  }

  static int positive(Path file, JsonNode root, String key) {
    JsonNode n = root.get(key);
    if (n == null || n.isNull()) {
      throw new ModelLoadException(file, "missing " + key);
    }
    if (!n.canConvertToInt() || !n.isIntegralNumber() || n.asInt() <= 0) {
      throw new ModelLoadException(file, key + " must be a positive integer, got " + n);
    }
    return n.asInt();
  }

  static double positiveDouble(Path file, JsonNode root, String key, double fallback) {
    JsonNode n = root.get(key);
    if (n == null || n.isNull()) {
      return fallback;
    }
    if (!n.isNumber() || !(n.asDouble() > 0)) {
      throw new ModelLoadException(file, key + " must be a positive number, got " + n);
    }
    return n.asDouble();
  }

  static JsonNode readJson(Path file, boolean required) {
    try {
      return Json.COMPACT.readTree(Files.readString(file));
    } catch (NoSuchFileException e) {
      if (required) {
        throw new ModelLoadException(file, "file not found (not a Hugging Face model directory?)");
      }
      return null;
    } catch (IOException e) {
      throw new ModelLoadException(file, "is not valid JSON: " + e.getMessage(), e);
    }
  }
}
