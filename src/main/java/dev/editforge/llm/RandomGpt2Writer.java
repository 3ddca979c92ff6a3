package dev.editforge.llm;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.editforge.text.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.List;

/**
 * Writes a GPT-2 with random weights in Hugging Face layout: {@code config.json} as transformers
 * writes it for {@code GPT2LMHeadModel}, weights under their real names and shapes ({@code
 * transformer.h.0.attn.c_attn.weight} {@code [n_embd, 3 n_embd]}, ...; optionally without the
 * {@code transformer.} prefix, as the hub's original {@code gpt2} checkpoint names them), a tiny
 * byte-level BPE {@code tokenizer.json} whose only special token is {@code <|endoftext|>} (GPT-2's
 * BOS, EOS and, by convention, pad token) and a {@code tokenizer_config.json} without chat
 * template. The fixture of the GPT-2 tests and the model of {@code bench batching}. Weights depend
 * only on the seed.
 */
public final class RandomGpt2Writer {
  public static final String END_OF_TEXT = "<|endoftext|>";

  private RandomGpt2Writer() {}

  /** The config of a GPT-2 with the tiny tokenizer's vocabulary (rounded up to 16). */
  public static ModelConfig config(int hidden, int layers, int heads, int positions) {
    TinyTokenizerWriter.Vocab vocab = vocab();
    int vocabSize = (vocab.size() + 15) / 16 * 16;
    return Gpt2Layout.config(
        vocabSize, hidden, 4 * hidden, layers, heads, positions, vocab.id(END_OF_TEXT));
  }

  public static TinyTokenizerWriter.Vocab vocab() {
    return TinyTokenizerWriter.byteLevel(List.of(END_OF_TEXT));
  }

  /**
   * Writes model and tokenizer into {@code dir}; {@code prefixed}: tensor names start with {@code
   * transformer.}. Returns {@code dir}.
   */
  public static Path write(Path dir, ModelConfig config, long seed, boolean prefixed) {
    if (!config.isGpt2()) {
      throw new IllegalArgumentException("not a GPT-2 config: " + config.modelType());
    }
    RandomDecoderWriter.write(dir, config, seed);
    if (!prefixed) {
      Path file = dir.resolve(SafetensorsCheckpoint.SINGLE_FILE);
      SafetensorsWriter w = new SafetensorsWriter();
      try (SafetensorsFile f = SafetensorsFile.open(file)) {
        for (String name : f.names()) {
          String bare =
              name.startsWith(Gpt2Layout.PREFIX)
                  ? name.substring(Gpt2Layout.PREFIX.length())
                  : name;
          w.addF32(bare, f.info(name).shape(), f.readFloats(name));
        }
      }
      w.write(file);
    }
    TinyTokenizerWriter.write(dir, vocab(), false, null, true);
    ObjectNode c = Json.COMPACT.createObjectNode();
    c.put("add_prefix_space", false);
    c.put("bos_token", END_OF_TEXT);
    c.put("eos_token", END_OF_TEXT);
    c.put("unk_token", END_OF_TEXT);
    c.putNull("pad_token");
    c.put("model_max_length", config.maxPositionEmbeddings());
    c.put("tokenizer_class", "GPT2Tokenizer");
    try {
      Json.COMPACT
          .writerWithDefaultPrettyPrinter()
          .writeValue(dir.resolve("tokenizer_config.json").toFile(), c);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return dir;
  }
}
