package dev.editforge.llm;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.editforge.text.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.nio.channels.WritableByteChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Writes a decoder with random weights in Hugging Face layout ({@code config.json}, {@code
 * generation_config.json}, safetensors weights, optionally sharded with an index): the fixture of
 * tests and the model of {@code bench llm}. Weights stream to disk tensor by tensor in 1 MiB
 * blocks, so writing a 100M-parameter model does not grow the heap. Each tensor's values depend
 * only on the seed and its name.
 *
 * <p>Scales are chosen so the model is far from uniform (embeddings of unit variance, linear
 * weights of variance 1/fan_in): greedy decoding then has clear winners and comparisons between
 * code paths are not decided by float rounding.
 */
public final class RandomDecoderWriter {
  private RandomDecoderWriter() {}

  /** Writes config, generation config and weights (one file, F32) into {@code dir}. */
  public static void write(Path dir, ModelConfig config, long seed) {
    write(dir, config, seed, SafetensorsDType.F32, 1);
  }

  /**
   * Writes config, generation config and weights stored as {@code dtype} (F32, F16 or BF16), in
   * {@code shards} files with {@code model.safetensors.index.json} when more than one.
   */
  public static void write(
      Path dir, ModelConfig config, long seed, SafetensorsDType dtype, int shards) {
    write(dir, config, seed, dtype, shards, 1.0);
  }

  /**
   * As {@link #write(Path, ModelConfig, long, SafetensorsDType, int)} with embeddings (and the LM
   * head) of standard deviation {@code embeddingStd}. With tied embeddings at the default 1.0 the
   * input embedding dominates the residual stream, so a random model echoes its last prompt token
   * forever (often a newline: an empty completion); Hugging Face's initializer range (0.02) lets
   * the layers decide the next token instead.
   */
  public static void write(
      Path dir,
      ModelConfig config,
      long seed,
      SafetensorsDType dtype,
      int shards,
      double embeddingStd) {
    try {
      Files.createDirectories(dir);
      ObjectMapper json = Json.COMPACT;
      json.writerWithDefaultPrettyPrinter()
          .writeValue(dir.resolve("config.json").toFile(), configJson(config));
      ObjectNode gen = json.createObjectNode();
      if (config.bosTokenId() >= 0) {
        gen.put("bos_token_id", config.bosTokenId());
      }
      ArrayNode eos = gen.putArray("eos_token_id");
      config.eosTokenIds().forEach(eos::add);
      json.writerWithDefaultPrettyPrinter()
          .writeValue(dir.resolve("generation_config.json").toFile(), gen);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Map<String, long[]> shapes = DecoderLayout.expectedShapes(config);
    List<String> names = new ArrayList<>(shapes.keySet());
    int n = Math.max(1, Math.min(shards, names.size()));
    Map<String, String> weightMap = new LinkedHashMap<>();
    // One block and one byte buffer for every tensor: writing 100M parameters makes no garbage.
    float[] block = new float[1 << 18];
    ByteBuffer scratch = ByteBuffer.allocateDirect(block.length * 4);
    for (int s = 0; s < n; s++) {
      String file =
          n == 1
              ? SafetensorsCheckpoint.SINGLE_FILE
              : String.format("model-%05d-of-%05d.safetensors", s + 1, n);
      SafetensorsWriter writer = new SafetensorsWriter();
      for (int i = s * names.size() / n; i < (s + 1) * names.size() / n; i++) {
        String name = names.get(i);
        long[] shape = shapes.get(name);
        writer.add(
            name,
            dtype,
            shape,
            out ->
                writeRandom(
                    out,
                    dtype,
                    shape,
                    config.isGpt2()
                        ? Gpt2Layout.randomScale(name, shape)
                        : scaleOf(name, shape, embeddingStd),
                    seed,
                    name,
                    block,
                    scratch));
        weightMap.put(name, file);
      }
      writer.write(dir.resolve(file));
    }
    if (n > 1) {
      ObjectMapper json = Json.COMPACT;
      ObjectNode index = json.createObjectNode();
      index.putObject("metadata").put("total_size", 0);
      ObjectNode map = index.putObject("weight_map");
      weightMap.forEach(map::put);
      try {
        json.writerWithDefaultPrettyPrinter()
            .writeValue(dir.resolve(SafetensorsCheckpoint.INDEX_FILE).toFile(), index);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /** Standard deviation (negative: "1 + noise" for norm weights). */
  private static double scaleOf(String name, long[] shape, double embeddingStd) {
    if (name.endsWith("layernorm.weight") || name.equals(DecoderLayout.FINAL_NORM)) {
      return -0.1;
    }
    if (name.endsWith(".bias")) {
      return 0.1;
    }
    if (name.equals(DecoderLayout.EMBED) || name.equals(DecoderLayout.LM_HEAD)) {
      return embeddingStd;
    }
    return 1.0 / Math.sqrt(shape[1]);
  }

  private static void writeRandom(
      WritableByteChannel out,
      SafetensorsDType dtype,
      long[] shape,
      double std,
      long seed,
      String name,
      float[] block,
      ByteBuffer scratch)
      throws IOException {
    SplittableRandom rng = new SplittableRandom(seed * 0x9E3779B97F4A7C15L ^ name.hashCode());
    long total = SafetensorsWriter.numel(shape);
    // Uniform noise of the requested variance: as good as Gaussian here and several times faster.
    double half = Math.abs(std) * Math.sqrt(3.0);
    for (long done = 0; done < total; done += block.length) {
      int len = (int) Math.min(block.length, total - done);
      for (int i = 0; i < len; i++) {
        float noise = (float) ((rng.nextDouble() * 2 - 1) * half);
        block[i] = std < 0 ? 1f + noise : noise;
      }
      SafetensorsWriter.writeFloats(out, dtype, block, 0, len, scratch);
    }
  }

  /** The {@code config.json} content Hugging Face would write for {@code c}. */
  public static ObjectNode configJson(ModelConfig c) {
    if (c.isGpt2()) {
      return Gpt2Layout.configJson(c);
    }
    ObjectNode o = Json.COMPACT.createObjectNode();
    String arch =
        switch (c.modelType()) {
          case "qwen2" -> "Qwen2ForCausalLM";
          case "mistral" -> "MistralForCausalLM";
          default -> "LlamaForCausalLM";
        };
    o.putArray("architectures").add(arch);
    o.put("model_type", c.modelType());
    o.put("vocab_size", c.vocabSize());
    o.put("hidden_size", c.hiddenSize());
    o.put("intermediate_size", c.intermediateSize());
    o.put("num_hidden_layers", c.numHiddenLayers());
    o.put("num_attention_heads", c.numAttentionHeads());
    o.put("num_key_value_heads", c.numKeyValueHeads());
    o.put("head_dim", c.headDim());
    o.put("hidden_act", "silu");
    o.put("rms_norm_eps", c.rmsNormEps());
    o.put("rope_theta", c.ropeTheta());
    if (c.ropeScaling() == null) {
      o.putNull("rope_scaling");
    } else {
      ObjectNode r = o.putObject("rope_scaling");
      r.put("rope_type", c.ropeScaling().type());
      r.put("factor", c.ropeScaling().factor());
      if (c.ropeScaling().type().equals("llama3")) {
        r.put("low_freq_factor", c.ropeScaling().lowFreqFactor());
        r.put("high_freq_factor", c.ropeScaling().highFreqFactor());
        r.put("original_max_position_embeddings", c.ropeScaling().originalMaxPositionEmbeddings());
      }
    }
    o.put("max_position_embeddings", c.maxPositionEmbeddings());
    o.put("tie_word_embeddings", c.tieWordEmbeddings());
    if (c.modelType().equals("llama")) {
      o.put("attention_bias", c.qkvBias());
      o.put("mlp_bias", c.mlpBias());
    }
    if (c.modelType().equals("mistral")) {
      if (c.slidingWindow() > 0) {
        o.put("sliding_window", c.slidingWindow());
      } else {
        o.putNull("sliding_window");
      }
    }
    if (c.bosTokenId() >= 0) {
      o.put("bos_token_id", c.bosTokenId());
    }
    if (c.eosTokenIds().size() == 1) {
      o.put("eos_token_id", c.eosTokenIds().get(0));
    } else {
      ArrayNode eos = o.putArray("eos_token_id");
      c.eosTokenIds().forEach(eos::add);
    }
    o.put("torch_dtype", "float32");
    return o;
  }
}
