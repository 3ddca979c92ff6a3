package dev.editforge.lora;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.editforge.llm.ModelConfig;
import dev.editforge.llm.Projection;
import dev.editforge.llm.SafetensorsFile;
import dev.editforge.llm.SafetensorsWriter;
import dev.editforge.text.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * PEFT's on-disk LoRA format, so adapters move between editforge, PEFT ({@code
 * PeftModel.from_pretrained}) and vLLM ({@code --enable-lora}): {@code adapter_config.json} and
 * {@code adapter_model.safetensors} with tensors named {@code
 * base_model.model.model.layers.N.self_attn.q_proj.lora_A.weight} ({@code [r, in]}) and {@code
 * ...lora_B.weight} ({@code [out, r]}), float32.
 *
 * <p>Loading accepts what PEFT writes for plain LoRA on these decoders: keys with or without an
 * adapter name ({@code lora_A.default.weight}), {@code target_modules} as a list, a regex string or
 * {@code all-linear} (the tensors present decide what is adapted), {@code use_rslora} (scale alpha
 * / sqrt(r), applied by storing an equivalent alpha). It refuses, with a message, what editforge
 * cannot apply faithfully: DoRA, per-module rank/alpha patterns, trained biases, {@code
 * fan_in_fan_out} on a Llama-family model, embedding/LM-head adapters, and pickle {@code
 * adapter_model.bin}.
 *
 * <p>GPT-2 ({@code base_model.model.transformer.h.N.attn.c_attn.lora_A.weight}): its projections
 * are {@code Conv1D}s, for which PEFT sets {@code fan_in_fan_out: true}. That flag only says the
 * base weight is {@code [in, out]}, so the merged delta is {@code (B A)^T}; the factors keep the
 * {@code [r, in]} / {@code [out, r]} shapes. Saving writes it true for GPT-2 adapters, loading
 * accepts either value for GPT-2.
 *
 * <p>{@link TrainableTokens} (rows of added tokens) are saved as PEFT saves {@code
 * trainable_token_indices}: {@code base_model.model.model.embed_tokens.token_adapter
 * .trainable_tokens_delta} {@code [count, hidden]} holding the rows' values (PEFT's "delta"
 * replaces the rows, it is not added to them) and, for an untied LM head, {@code
 * base_model.model.lm_head.token_adapter.trainable_tokens_delta}; {@code adapter_config.json} lists
 * the ids ({@code [ids]} when tied, {@code {"embed_tokens": ids, "lm_head": ids}} when not). PEFT
 * applies them to a base model resized to the adapter's tokenizer first ({@code
 * model.resize_token_embeddings(len(tokenizer))}). Llama-family models only (GPT-2's {@code wte} is
 * not handled).
 */
public final class PeftAdapters {
  public static final String CONFIG = "adapter_config.json";
  public static final String WEIGHTS = "adapter_model.safetensors";

  public static final String EMBED_TOKENS_DELTA =
      "base_model.model.model.embed_tokens.token_adapter.trainable_tokens_delta";
  public static final String LM_HEAD_TOKENS_DELTA =
      "base_model.model.lm_head.token_adapter.trainable_tokens_delta";

  private static final Pattern KEY =
      Pattern.compile(
          "base_model\\.model\\.(?:model\\.layers|transformer\\.h)\\.(\\d+)\\.(self_attn|mlp|attn)\\.(\\w+)\\.lora_([AB])(?:\\.[^.]+)?\\.weight");

  private PeftAdapters() {}

  /** Writes {@code adapter} to {@code dir} (created if needed). */
  public static void save(Path dir, LoraAdapter adapter, String baseModel) {
    LoraConfig c = adapter.config();
    try {
      Files.createDirectories(dir);
      ObjectMapper json = Json.COMPACT;
      ObjectNode cfg = json.createObjectNode();
      cfg.putObject("alpha_pattern");
      cfg.putNull("auto_mapping");
      cfg.put("base_model_name_or_path", baseModel == null ? "" : baseModel);
      cfg.put("bias", "none");
      boolean conv1d = adapter.targets().stream().anyMatch(t -> t.projection().conv1d());
      cfg.put("fan_in_fan_out", conv1d);
      cfg.put("inference_mode", true);
      cfg.put("init_lora_weights", true);
      cfg.putNull("layers_pattern");
      cfg.putNull("layers_to_transform");
      if (c.alpha() == Math.rint(c.alpha())) {
        cfg.put("lora_alpha", (long) c.alpha());
      } else {
        cfg.put("lora_alpha", c.alpha());
      }
      cfg.put("lora_dropout", c.dropout());
      cfg.putNull("modules_to_save");
      cfg.put("peft_type", "LORA");
      cfg.put("r", c.rank());
      cfg.putObject("rank_pattern");
      cfg.putNull("revision");
      ArrayNode targets = cfg.putArray("target_modules");
      adapter.targets().stream()
          .map(t -> t.projection().moduleName())
          .distinct()
          .forEach(targets::add);
      cfg.put("task_type", "CAUSAL_LM");
      TrainableTokens rows = adapter.trainableTokens();
      if (rows == null) {
        cfg.putNull("trainable_token_indices");
      } else if (rows.tied()) {
        ArrayNode ids = cfg.putArray("trainable_token_indices");
        for (int id : rows.indices()) {
          ids.add(id);
        }
      } else {
        ObjectNode byModule = cfg.putObject("trainable_token_indices");
        for (String module : List.of("embed_tokens", "lm_head")) {
          ArrayNode ids = byModule.putArray(module);
          for (int id : rows.indices()) {
            ids.add(id);
          }
        }
      }
      cfg.put("use_dora", false);
      cfg.put("use_rslora", false);
      json.writerWithDefaultPrettyPrinter().writeValue(dir.resolve(CONFIG).toFile(), cfg);
      SafetensorsWriter w = new SafetensorsWriter();
      for (LoraAdapter.Factors f : adapter.factors().values()) {
        LoraTarget t = f.target();
        w.addF32(t.peftA(), new long[] {c.rank(), t.in()}, f.a());
        w.addF32(t.peftB(), new long[] {t.out(), c.rank()}, f.b());
      }
      if (rows != null) {
        long[] shape = {rows.count(), rows.hidden()};
        w.addF32(EMBED_TOKENS_DELTA, shape, rows.embed());
        if (!rows.tied()) {
          w.addF32(LM_HEAD_TOKENS_DELTA, shape, rows.head());
        }
      }
      w.write(dir.resolve(WEIGHTS));
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Loads a PEFT LoRA adapter for a model of {@code model}'s shape; shapes are checked. */
  public static LoraAdapter load(Path dir, ModelConfig model) {
    Path cfgFile = dir.resolve(CONFIG);
    Path weights = dir.resolve(WEIGHTS);
    if (!Files.exists(weights) && Files.exists(dir.resolve("adapter_model.bin"))) {
      throw new IllegalArgumentException(
          dir
              + " holds adapter_model.bin (a pickle, which can run code when loaded);"
              + " convert it to adapter_model.safetensors");
    }
    JsonNode cfg;
    try {
      cfg = Json.COMPACT.readTree(cfgFile.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + cfgFile, e);
    }
    String type = cfg.path("peft_type").asText("");
    if (!type.equals("LORA")) {
      throw new IllegalArgumentException(
          cfgFile + ": peft_type is \"" + type + "\", only LORA is supported");
    }
    refuse(cfgFile, cfg, "use_dora", "DoRA");
    if (!model.isGpt2()) {
      refuse(cfgFile, cfg, "fan_in_fan_out", "fan_in_fan_out");
    }
    if (cfg.hasNonNull("rank_pattern") && cfg.get("rank_pattern").size() > 0
        || cfg.hasNonNull("alpha_pattern") && cfg.get("alpha_pattern").size() > 0) {
      throw new IllegalArgumentException(
          cfgFile + ": per-module rank_pattern/alpha_pattern is not supported");
    }
    String bias = cfg.path("bias").asText("none");
    if (!bias.equals("none")) {
      throw new IllegalArgumentException(
          cfgFile + ": bias \"" + bias + "\" (trained biases) is not supported");
    }
    int r = cfg.path("r").asInt(0);
    double alpha = cfg.path("lora_alpha").asDouble(r);
    if (cfg.path("use_rslora").asBoolean(false)) {
      // rsLoRA scales by alpha / sqrt(r); store the alpha that gives that scale as alpha / r.
      alpha = alpha * Math.sqrt(r);
    }
    double dropout = cfg.path("lora_dropout").asDouble(0.0);
    Map<String, float[][]> found = new LinkedHashMap<>();
    int[] tokenIds = tokenIndices(cfgFile, cfg.get("trainable_token_indices"));
    float[] tokenEmbed = null;
    float[] tokenHead = null;
    try (SafetensorsFile f = SafetensorsFile.open(weights)) {
      for (String name : f.names()) {
        if (name.equals(EMBED_TOKENS_DELTA) || name.equals(LM_HEAD_TOKENS_DELTA)) {
          long[] shape = f.info(name).shape();
          long[] want = {tokenIds == null ? -1 : tokenIds.length, model.hiddenSize()};
          if (!Arrays.equals(shape, want)) {
            throw new IllegalArgumentException(
                weights
                    + ": "
                    + name
                    + " has shape "
                    + Arrays.toString(shape)
                    + ", but adapter_config.json's trainable_token_indices and the model imply "
                    + Arrays.toString(want));
          }
          if (name.equals(EMBED_TOKENS_DELTA)) {
            tokenEmbed = f.readFloats(name);
          } else {
            tokenHead = f.readFloats(name);
          }
          continue;
        }
        Matcher mt = KEY.matcher(name);
        if (!mt.matches()) {
          throw new IllegalArgumentException(
              weights
                  + ": tensor "
                  + name
                  + " is not a LoRA factor of a decoder projection (embedding, LM-head or DoRA adapters are not supported)");
        }
        int layer = Integer.parseInt(mt.group(1));
        Projection p = projection(model, mt.group(2), mt.group(3), weights, name);
        if (layer >= model.numHiddenLayers()) {
          throw new IllegalArgumentException(
              weights
                  + ": "
                  + name
                  + " adapts layer "
                  + layer
                  + " but the model has "
                  + model.numHiddenLayers());
        }
        long[] shape = f.info(name).shape();
        boolean isA = mt.group(4).equals("A");
        long[] want =
            isA ? new long[] {r, p.inFeatures(model)} : new long[] {p.outFeatures(model), r};
        if (!Arrays.equals(shape, want)) {
          throw new IllegalArgumentException(
              weights
                  + ": "
                  + name
                  + " has shape "
                  + Arrays.toString(shape)
                  + ", expected "
                  + Arrays.toString(want)
                  + " (r = "
                  + r
                  + ")");
        }
        float[][] ab = found.computeIfAbsent(LoraTarget.key(layer, p.key()), k -> new float[2][]);
        ab[isA ? 0 : 1] = f.readFloats(name);
      }
    }
    if (found.isEmpty()) {
      throw new IllegalArgumentException(weights + " holds no LoRA factors");
    }
    TrainableTokens rows = null;
    if (tokenIds != null) {
      if (tokenEmbed == null) {
        throw new IllegalArgumentException(
            weights + " lacks " + EMBED_TOKENS_DELTA + " for trainable_token_indices");
      }
      if (tokenHead == null && !model.tieWordEmbeddings()) {
        // PEFT trained only the input rows (a list on an untied model): the LM head keeps the base
        // model's rows, which a null head would wrongly replace with the embedding rows.
        throw new IllegalArgumentException(
            weights
                + ": trainable token rows for embed_tokens only, on a model with an untied LM head,"
                + " are not supported (train lm_head rows too)");
      }
      rows =
          new TrainableTokens(
              tokenIds[0], tokenIds.length, model.hiddenSize(), tokenEmbed, tokenHead);
      if (rows.start() + rows.count() > model.vocabSize()) {
        throw new IllegalArgumentException(
            cfgFile
                + ": trainable token ids reach "
                + (rows.start() + rows.count() - 1)
                + " but the model has "
                + model.vocabSize()
                + " rows; resize it to the adapter's tokenizer first");
      }
    } else if (tokenEmbed != null || tokenHead != null) {
      throw new IllegalArgumentException(
          weights
              + " holds trainable token rows but adapter_config.json has no trainable_token_indices");
    }
    List<String> modules = new ArrayList<>();
    for (Projection p : Projection.of(model)) {
      for (String key : found.keySet()) {
        if (key.endsWith("." + p.key()) && !modules.contains(p.moduleName())) {
          modules.add(p.moduleName());
        }
      }
    }
    LoraConfig config = new LoraConfig(r, alpha, dropout, modules);
    Map<String, LoraAdapter.Factors> factors = new LinkedHashMap<>();
    for (LoraTarget t : config.targetsOf(model)) {
      float[][] ab = found.get(t.key());
      if (ab == null) {
        // PEFT adapts only some layers (layers_to_transform): an absent target is a zero delta.
        ab = new float[][] {new float[r * t.in()], new float[t.out() * r]};
      }
      if (ab[0] == null || ab[1] == null) {
        throw new IllegalArgumentException(
            weights + ": " + t.key() + " has only one of lora_A and lora_B");
      }
      factors.put(t.key(), new LoraAdapter.Factors(t, ab[0], ab[1]));
    }
    return new LoraAdapter(config, factors, rows);
  }

  /**
   * The ids of {@code trainable_token_indices} (a list, or per module; embed_tokens and lm_head
   * must then list the same ids), null when absent. editforge trains one contiguous range (the
   * added tokens), so other id sets are refused.
   */
  private static int[] tokenIndices(Path cfgFile, JsonNode node) {
    if (node == null || node.isNull()) {
      return null;
    }
    JsonNode list = node;
    if (node.isObject()) {
      JsonNode embed = node.get("embed_tokens");
      JsonNode head = node.get("lm_head");
      var names = node.fieldNames();
      while (names.hasNext()) {
        String n = names.next();
        if (!n.equals("embed_tokens") && !n.equals("lm_head")) {
          throw new IllegalArgumentException(
              cfgFile + ": trainable_token_indices for module " + n + " is not supported");
        }
      }
      if (embed == null || head != null && !head.equals(embed)) {
        throw new IllegalArgumentException(
            cfgFile
                + ": trainable_token_indices must give embed_tokens (and lm_head the same ids)");
      }
      list = embed;
    }
    if (!list.isArray() || list.isEmpty()) {
      throw new IllegalArgumentException(
          cfgFile + ": trainable_token_indices must be a non-empty list of token ids");
    }
    int[] ids = new int[list.size()];
    for (int i = 0; i < ids.length; i++) {
      ids[i] = list.get(i).asInt(-1);
      if (ids[i] < 0 || i > 0 && ids[i] != ids[i - 1] + 1) {
        throw new IllegalArgumentException(
            cfgFile
                + ": trainable_token_indices must be one ascending run of ids (the added tokens), got "
                + list);
      }
    }
    return ids;
  }

  /** The projection of {@code model}'s architecture at {@code block.module}. */
  private static Projection projection(
      ModelConfig model, String block, String module, Path weights, String name) {
    for (Projection p : Projection.of(model)) {
      if (p.block().equals(block) && p.moduleName().equals(module)) {
        return p;
      }
    }
    throw new IllegalArgumentException(
        weights
            + ": tensor "
            + name
            + " adapts "
            + block
            + "."
            + module
            + ", which a "
            + model.modelType()
            + " model does not have");
  }

  private static void refuse(Path file, JsonNode cfg, String flag, String what) {
    if (cfg.path(flag).asBoolean(false)) {
      throw new IllegalArgumentException(file + ": " + what + " adapters are not supported");
    }
  }
}
