package dev.editforge.generate;

import dev.editforge.text.Json;
import dev.editforge.llm.ByteLevel;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.editforge.text.Json;
import dev.editforge.llm.ModelConfig;
import dev.editforge.llm.RandomDecoderWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A tiny random-weight Qwen2-style decoder in real Hugging Face layout (config, safetensors, a
 * byte-level BPE {@code tokenizer.json}, {@code tokenizer_config.json} with a ChatML template):
 * the model of {@code editforge bench generate} and of a demo without a real model. It writes
 * gibberish; it exists so every code path runs in seconds. The same shape as the tests'
 * {@code TinyModels.qwen2} fixture (which stays test code); written only when absent.
 */
public final class TinyRandomModel {
  private static final String[][] MERGES = {
    {"t", "h"}, {"h", "e"}, {"th", "e"}, {"i", "n"}, {"a", "n"}, {"e", "r"}, {"o", "n"}, {"e", "d"}, {"o", "u"},
    {"r", "e"}, {"i", "s"}, {"in", "g"}, {"e", "s"}, {"a", "t"}, {"o", "r"}, {"l", "l"}, {"l", "o"}
  };
  private static final List<String> SPECIAL = List.of("<|endoftext|>", "<|im_start|>", "<|im_end|>");
  static final String CHATML = "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content']"
      + " + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

  private TinyRandomModel() {}

  /** Writes the model into {@code dir} unless a config.json is already there; returns {@code dir}. */
  public static Path write(Path dir, int hidden, int layers, int maxPositions, long seed) {
    if (Files.isRegularFile(dir.resolve("config.json")) && Files.isRegularFile(dir.resolve("tokenizer.json"))) {
      return dir;
    }
    Map<String, Integer> vocab = vocab();
    int vocabSize = (vocab.size() + 15) / 16 * 16;
    int heads = Math.max(1, hidden / 16);
    ModelConfig config = new ModelConfig("qwen2", vocabSize, hidden, 2 * hidden, layers, heads, Math.max(1, heads / 2),
        16, 1e-6, 1000000.0, null, maxPositions, false, true, false, false, 0,
        vocab.get("<|endoftext|>"), List.of(vocab.get("<|im_end|>"), vocab.get("<|endoftext|>")));
    RandomDecoderWriter.write(dir, config, seed);
    try {
      Json.MAPPER.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("tokenizer.json").toFile(), tokenizer(vocab));
      ObjectNode c = Json.MAPPER.createObjectNode();
      c.putNull("bos_token");
      c.put("eos_token", "<|im_end|>");
      c.put("pad_token", "<|endoftext|>");
      c.put("chat_template", CHATML);
      c.put("tokenizer_class", "Qwen2Tokenizer");
      c.put("model_max_length", maxPositions);
      Json.MAPPER.writerWithDefaultPrettyPrinter().writeValue(dir.resolve("tokenizer_config.json").toFile(), c);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the tiny model into " + dir, e);
    }
    return dir;
  }

  private static Map<String, Integer> vocab() {
    Map<String, Integer> ids = new LinkedHashMap<>();
    for (char c : ByteLevel.alphabet()) {
      ids.put(String.valueOf(c), ids.size());
    }
    for (String[] m : MERGES) {
      ids.putIfAbsent(m[0] + m[1], ids.size());
    }
    ids.putIfAbsent("\u0120t", ids.size());
    ids.putIfAbsent("\u0120the", ids.size());
    ids.putIfAbsent("\u0120a", ids.size());
    SPECIAL.forEach(s -> ids.put(s, ids.size()));
    return ids;
  }


  private static ObjectNode tokenizer(Map<String, Integer> v) {
    ObjectNode root = Json.MAPPER.createObjectNode();
    root.put("version", "1.0");
    root.putNull("truncation");
    root.putNull("padding");
    ArrayNode added = root.putArray("added_tokens");
    for (String s : SPECIAL) {
      added.addObject().put("id", v.get(s)).put("content", s).put("single_word", false).put("lstrip", false)
          .put("rstrip", false).put("normalized", false).put("special", true);
    }
    root.putObject("normalizer").put("type", "NFC");
    root.putObject("pre_tokenizer").put("type", "ByteLevel").put("add_prefix_space", false)
        .put("trim_offsets", true).put("use_regex", true);
    root.putObject("post_processor").put("type", "ByteLevel").put("add_prefix_space", false)
        .put("trim_offsets", false).put("use_regex", true);
    root.putObject("decoder").put("type", "ByteLevel").put("add_prefix_space", true)
        .put("trim_offsets", true).put("use_regex", true);
    ObjectNode model = root.putObject("model");
    model.put("type", "BPE");
    model.putNull("dropout");
    model.putNull("unk_token");
    model.putNull("continuing_subword_prefix");
    model.putNull("end_of_word_suffix");
    model.put("fuse_unk", false);
    model.put("byte_fallback", false);
    model.put("ignore_merges", false);
    ObjectNode vocab = model.putObject("vocab");
    v.forEach((tok, id) -> {
      if (!SPECIAL.contains(tok)) {
        vocab.put(tok, id);
      }
    });
    ArrayNode merges = model.putArray("merges");
    for (String[] m : MERGES) {
      merges.add(m[0] + " " + m[1]);
    }
    merges.add("\u0120 t");
    merges.add("\u0120t he");
    merges.add("\u0120 a");
    return root;
  }
}
