package dev.editforge.generate;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.editforge.llm.ModelConfig;
import dev.editforge.llm.RandomDecoderWriter;
import dev.editforge.llm.TinyTokenizerWriter;
import dev.editforge.text.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/**
 * A tiny random-weight Qwen2-style decoder in real Hugging Face layout (config, safetensors, a
 * byte-level BPE {@code tokenizer.json}, {@code tokenizer_config.json} with a ChatML template): the
 * model of {@code editforge bench generate} and of a demo without a real model. It writes
 * gibberish; it exists so every code path runs in seconds. The same shape as the tests' {@code
 * TinyModels.qwen2} fixture (which stays test code); written only when absent.
 */
public final class TinyRandomModel {
  private static final List<String> SPECIAL =
      List.of("<|endoftext|>", "<|im_start|>", "<|im_end|>");
  static final String CHATML =
      "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content']"
          + " + '<|im_end|>' + '\\n' }}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

  private TinyRandomModel() {}

  /**
   * Writes the model into {@code dir} unless a config.json is already there; returns {@code dir}.
   */
  public static Path write(Path dir, int hidden, int layers, int maxPositions, long seed) {
    if (Files.isRegularFile(dir.resolve("config.json"))
        && Files.isRegularFile(dir.resolve("tokenizer.json"))) {
      return dir;
    }
    TinyTokenizerWriter.Vocab vocab = TinyTokenizerWriter.byteLevel(SPECIAL);
    int vocabSize = (vocab.size() + 15) / 16 * 16;
    int heads = Math.max(1, hidden / 16);
    ModelConfig config =
        new ModelConfig(
            "qwen2",
            vocabSize,
            hidden,
            2 * hidden,
            layers,
            heads,
            Math.max(1, heads / 2),
            16,
            1e-6,
            1000000.0,
            null,
            maxPositions,
            false,
            true,
            false,
            false,
            0,
            vocab.id("<|endoftext|>"),
            List.of(vocab.id("<|im_end|>"), vocab.id("<|endoftext|>")));
    RandomDecoderWriter.write(dir, config, seed);
    TinyTokenizerWriter.write(dir, vocab, true, null, true);
    ObjectMapper json = Json.COMPACT;
    try {
      ObjectNode c = json.createObjectNode();
      c.putNull("bos_token");
      c.put("eos_token", "<|im_end|>");
      c.put("pad_token", "<|endoftext|>");
      c.put("chat_template", CHATML);
      c.put("tokenizer_class", "Qwen2Tokenizer");
      c.put("model_max_length", maxPositions);
      Json.MAPPER
          .writerWithDefaultPrettyPrinter()
          .writeValue(dir.resolve("tokenizer_config.json").toFile(), c);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the tiny model into " + dir, e);
    }
    return dir;
  }
}
