package dev.editforge.selfrag;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.editforge.llm.ModelConfig;
import dev.editforge.llm.RandomDecoderWriter;
import dev.editforge.llm.TinyTokenizerWriter;
import dev.editforge.text.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * A tiny random-weight Llama-style decoder whose tokenizer has Self-RAG's 15 reflection tokens
 * added as special tokens after {@code </s>}, as Self-RAG's fine-tuning adds them: every Self-RAG
 * code path runs on it, it just answers gibberish. A model fine-tuned with the tokens (issue 12)
 * can replace it.
 */
public final class SelfRagTinyModel {
  private SelfRagTinyModel() {}

  public static Path write(Path dir, long seed) {
    if (Files.isRegularFile(dir.resolve("config.json"))) {
      return dir;
    }
    List<String> special = new ArrayList<>(List.of("<s>", "</s>"));
    special.addAll(ReflectionTokens.ALL);
    TinyTokenizerWriter.Vocab vocab = TinyTokenizerWriter.byteLevel(special);
    int vocabSize = (vocab.size() + 15) / 16 * 16;
    ModelConfig config =
        new ModelConfig(
            "llama",
            vocabSize,
            32,
            64,
            1,
            2,
            1,
            16,
            1e-6,
            10000.0,
            null,
            512,
            false,
            false,
            false,
            false,
            0,
            vocab.id("<s>"),
            List.of(vocab.id("</s>")));
    RandomDecoderWriter.write(dir, config, seed);
    TinyTokenizerWriter.write(dir, vocab, true, null, false);
    try {
      ObjectNode c = Json.COMPACT.createObjectNode();
      c.put("bos_token", "<s>");
      c.put("eos_token", "</s>");
      c.put("add_bos_token", false);
      c.put("model_max_length", 512);
      Files.writeString(dir.resolve("tokenizer_config.json"), c.toString());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return dir;
  }
}
