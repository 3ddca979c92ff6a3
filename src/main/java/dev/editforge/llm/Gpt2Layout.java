package dev.editforge.llm;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.editforge.text.Json;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * GPT-2 as transformers' {@code GPT2LMHeadModel} stores it: token and learned position embeddings
 * ({@code wte}, {@code wpe}), pre-LayerNorm blocks with bias ({@code ln_1}, {@code ln_2}, {@code
 * ln_f}), a fused {@code c_attn} (q, k, v side by side), {@code gelu_new}, and {@code Conv1D}
 * projections whose weights are {@code [in, out]} (the transpose of {@code nn.Linear}'s). The head
 * is tied to {@code wte} unless config.json says otherwise.
 *
 * <p>Names here carry the {@code transformer.} prefix that {@code GPT2LMHeadModel.save_pretrained}
 * writes; the original {@code gpt2} checkpoints on the hub were saved from {@code GPT2Model} and
 * have none, so {@link #storedNames} accepts either. Attention-mask buffers some checkpoints carry
 * ({@code attn.bias}, {@code attn.masked_bias}) are not weights and are ignored.
 */
public final class Gpt2Layout {
  public static final String PREFIX = "transformer.";
  public static final String WTE = PREFIX + "wte.weight";
  public static final String WPE = PREFIX + "wpe.weight";
  public static final String LN_F = PREFIX + "ln_f";

  /** {@code gelu_pytorch_tanh} is the same tanh approximation under another name. */
  public static final List<String> ACTIVATIONS = List.of("gelu_new", "gelu_pytorch_tanh");

  private Gpt2Layout() {}

  /** {@code transformer.h.3.ln_1} ({@code which} = 1 or 2); add {@code .weight} / {@code .bias}. */
  public static String norm(int layer, int which) {
    return PREFIX + "h." + layer + ".ln_" + which;
  }

  /** Every weight a GPT-2 of {@code c} needs, in checkpoint order, with its expected shape. */
  public static Map<String, long[]> expectedShapes(ModelConfig c) {
    Map<String, long[]> out = new LinkedHashMap<>();
    long h = c.hiddenSize();
    out.put(WTE, new long[] {c.vocabSize(), h});
    out.put(WPE, new long[] {c.maxPositionEmbeddings(), h});
    for (int l = 0; l < c.numHiddenLayers(); l++) {
      out.put(norm(l, 1) + ".weight", new long[] {h});
      out.put(norm(l, 1) + ".bias", new long[] {h});
      for (Projection p : Projection.of(c)) {
        if (p == Projection.C_FC) {
          out.put(norm(l, 2) + ".weight", new long[] {h});
          out.put(norm(l, 2) + ".bias", new long[] {h});
        }
        out.put(p.weightName(l), new long[] {p.inFeatures(c), p.outFeatures(c)});
        out.put(p.biasName(l), new long[] {p.outFeatures(c)});
      }
    }
    out.put(LN_F + ".weight", new long[] {h});
    out.put(LN_F + ".bias", new long[] {h});
    if (!c.tieWordEmbeddings()) {
      out.put(DecoderLayout.LM_HEAD, new long[] {c.vocabSize(), h});
    }
    return Collections.unmodifiableMap(out);
  }

  /** Parameters that carry weights, excluding the tied head. */
  static long parameterCount(ModelConfig c) {
    long n = 0;
    for (long[] shape : expectedShapes(c).values()) {
      long size = 1;
      for (long d : shape) {
        size *= d;
      }
      n += size;
    }
    return n;
  }

  /**
   * The name each expected tensor has in {@code names} (with or without {@link #PREFIX}). Throws
   * one {@link ModelLoadException} naming every missing tensor.
   */
  public static Map<String, String> storedNames(
      Path dir, Set<String> names, Map<String, long[]> expected) {
    Map<String, String> out = new LinkedHashMap<>();
    List<String> missing = new ArrayList<>();
    for (String name : expected.keySet()) {
      String bare = name.startsWith(PREFIX) ? name.substring(PREFIX.length()) : name;
      if (names.contains(name)) {
        out.put(name, name);
      } else if (names.contains(bare)) {
        out.put(name, bare);
      } else {
        missing.add(name);
      }
    }
    if (!missing.isEmpty()) {
      List<String> shown = missing.subList(0, Math.min(8, missing.size()));
      throw new ModelLoadException(
          dir,
          "the GPT-2 checkpoint lacks "
              + missing.size()
              + " tensor(s) that config.json implies: "
              + String.join(", ", shown)
              + (missing.size() > shown.size() ? ", ..." : "")
              + " (names may carry the transformer. prefix or not)");
    }
    return out;
  }

  /** Reads a GPT-2 {@code config.json} ({@code n_embd}, {@code n_layer}, ...). */
  static ModelConfig parseConfig(Path file, JsonNode root, JsonNode generation) {
    String act = root.path("activation_function").asText("gelu_new");
    if (!ACTIVATIONS.contains(act)) {
      throw new ModelLoadException(
          file, "activation_function \"" + act + "\" is not supported (gelu_new only)");
    }
    if (root.path("scale_attn_by_inverse_layer_idx").asBoolean(false)
        || !root.path("scale_attn_weights").asBoolean(true)) {
      throw new ModelLoadException(
          file,
          "only GPT-2's standard attention scale 1/sqrt(head_dim) is supported"
              + " (scale_attn_weights true, scale_attn_by_inverse_layer_idx false)");
    }
    int hidden = ModelConfig.positive(file, root, "n_embd");
    int heads = ModelConfig.positive(file, root, "n_head");
    if (hidden % heads != 0) {
      throw new ModelLoadException(
          file, "n_embd " + hidden + " is not a multiple of n_head " + heads);
    }
    int inner =
        root.hasNonNull("n_inner") ? ModelConfig.positive(file, root, "n_inner") : 4 * hidden;
    int positions =
        root.hasNonNull("n_positions")
            ? ModelConfig.positive(file, root, "n_positions")
            : ModelConfig.positive(file, root, "n_ctx");
    int bos = root.hasNonNull("bos_token_id") ? root.get("bos_token_id").asInt() : -1;
    Set<Integer> eos = new LinkedHashSet<>();
    ModelConfig.addIds(root.get("eos_token_id"), eos);
    if (generation != null) {
      ModelConfig.addIds(generation.get("eos_token_id"), eos);
      if (bos < 0 && generation.hasNonNull("bos_token_id")) {
        bos = generation.get("bos_token_id").asInt();
      }
    }
    return new ModelConfig(
        "gpt2",
        ModelConfig.positive(file, root, "vocab_size"),
        hidden,
        inner,
        ModelConfig.positive(file, root, "n_layer"),
        heads,
        heads,
        hidden / heads,
        ModelConfig.positiveDouble(file, root, "layer_norm_epsilon", 1e-5),
        10000.0,
        null,
        positions,
        root.path("tie_word_embeddings").asBoolean(true),
        true,
        true,
        true,
        0,
        bos,
        new ArrayList<>(eos));
  }

  /**
   * A GPT-2 config of the given shape ({@code intermediate} is {@code n_inner}, usually 4 x
   * hidden), LayerNorm epsilon 1e-5, tied head.
   */
  public static ModelConfig config(
      int vocab, int hidden, int intermediate, int layers, int heads, int positions, int eos) {
    return new ModelConfig(
        "gpt2",
        vocab,
        hidden,
        intermediate,
        layers,
        heads,
        heads,
        hidden / heads,
        1e-5,
        10000.0,
        null,
        positions,
        true,
        true,
        true,
        true,
        0,
        eos,
        List.of(eos));
  }

  /** The {@code config.json} transformers writes for a {@code GPT2LMHeadModel} of {@code c}. */
  public static ObjectNode configJson(ModelConfig c) {
    ObjectNode o = Json.COMPACT.createObjectNode();
    o.put("activation_function", "gelu_new");
    o.putArray("architectures").add("GPT2LMHeadModel");
    o.put("attn_pdrop", 0.1);
    if (c.bosTokenId() >= 0) {
      o.put("bos_token_id", c.bosTokenId());
    }
    o.put("embd_pdrop", 0.1);
    if (c.eosTokenIds().size() == 1) {
      o.put("eos_token_id", c.eosTokenIds().get(0));
    } else {
      ArrayNode eos = o.putArray("eos_token_id");
      c.eosTokenIds().forEach(eos::add);
    }
    o.put("initializer_range", 0.02);
    o.put("layer_norm_epsilon", c.rmsNormEps());
    o.put("model_type", "gpt2");
    o.put("n_ctx", c.maxPositionEmbeddings());
    o.put("n_embd", c.hiddenSize());
    o.put("n_head", c.numAttentionHeads());
    if (c.intermediateSize() == 4 * c.hiddenSize()) {
      o.putNull("n_inner");
    } else {
      o.put("n_inner", c.intermediateSize());
    }
    o.put("n_layer", c.numHiddenLayers());
    o.put("n_positions", c.maxPositionEmbeddings());
    o.put("resid_pdrop", 0.1);
    o.put("scale_attn_weights", true);
    o.put("tie_word_embeddings", c.tieWordEmbeddings());
    o.put("torch_dtype", "float32");
    o.put("use_cache", true);
    o.put("vocab_size", c.vocabSize());
    return o;
  }

  /** The random writer's standard deviation for {@code name} (negative: 1 + noise). */
  static double randomScale(String name, long[] shape) {
    if (name.contains(".ln_") && name.endsWith(".weight")) {
      return -0.1;
    }
    if (name.endsWith(".bias")) {
      return 0.1;
    }
    // Small next to what the blocks add: with the head tied to wte, a dominant token embedding
    // would make every token predict itself.
    if (name.equals(WTE) || name.equals(DecoderLayout.LM_HEAD) || name.equals(WPE)) {
      return 0.3;
    }
    return 1.0 / Math.sqrt(shape[0]);
  }
}
