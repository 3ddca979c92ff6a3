package dev.editforge.finetune;

import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.editforge.llm.AddedTokens;
import dev.editforge.llm.DecoderLayout;
import dev.editforge.llm.SafetensorsCheckpoint;
import dev.editforge.llm.SafetensorsDType;
import dev.editforge.llm.SafetensorsWriter;
import dev.editforge.lora.LoraMerge;
import dev.editforge.text.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

/**
 * A base model with special tokens added, as a model directory the runtime loads like any other:
 * the tokenizer files with the tokens ({@link AddedTokens}), {@code config.json} with the new
 * {@code vocab_size}, and the weights, where {@code model.embed_tokens.weight} and (untied) {@code
 * lm_head.weight} gain rows when the tokenizer outgrows them, as transformers' {@code
 * resize_token_embeddings(len(tokenizer), pad_to_multiple_of=m)} does. A model with spare rows
 * (Qwen's embedding has more rows than its tokenizer has tokens) is not resized: the new tokens use
 * rows that exist, as in Self-RAG's finetune.py (resize only if {@code len(tokenizer) > rows}).
 *
 * <p>New rows start as {@link Init#MEAN} (each = the mean of the old rows, Self-RAG's critic
 * script, data_creation/train_special_tokens.py:143-164) or {@link Init#NORMAL} (N(0,
 * initializer_range), transformers' {@code _init_weights}, which resizing used before 4.46). Mean
 * is the default: the new tokens start where the old ones are on average, so their logits neither
 * dominate nor vanish; training replaces the added tokens' rows anyway.
 *
 * <p>Only the two resized tensors are written; every other tensor is read through a symbolic link
 * to the base model's files (a copy where links are not possible), so preparing a 7B model costs
 * its embedding matrices, not 15 GB. The directory is for editforge's runtime; the merged model
 * written from it is a plain Hugging Face directory.
 */
public final class AddedTokenModel {
  /** How the rows added by a resize start. */
  public enum Init {
    MEAN,
    NORMAL;

    public static Init parse(String wire) {
      return valueOf(wire.toUpperCase(java.util.Locale.ROOT));
    }
  }

  /** The file holding the resized embedding (and LM-head) matrices. */
  public static final String RESIZED_FILE = "added-tokens-embeddings.safetensors";

  /** The tokenizer files a fine-tune with added tokens saves beside the adapter. */
  public static final List<String> TOKENIZER_FILES =
      List.of(
          "tokenizer.json",
          "tokenizer_config.json",
          "special_tokens_map.json",
          "chat_template.jinja",
          "vocab.json",
          "merges.txt",
          "tokenizer.model");

  /**
   * What was prepared.
   *
   * @param dir the model directory with the tokens added
   * @param tokens the tokenizer change (ids, which tokens were new)
   * @param oldRows embedding rows before
   * @param newRows embedding rows after ({@code config.json}'s vocab_size)
   */
  public record Prepared(Path dir, AddedTokens.Result tokens, int oldRows, int newRows) {
    /** The first new token's id. */
    public int start() {
      return tokens.oldSize();
    }

    /** How many tokens were new (their rows are the ones to train). */
    public int count() {
      return tokens.added().size();
    }
  }

  private AddedTokenModel() {}

  /**
   * Writes {@code base} with {@code tokens} added into {@code dir}; rows are padded to a multiple
   * of {@code multiple} (0 or 1 = none); {@code seed} seeds {@link Init#NORMAL}.
   */
  public static Prepared prepare(
      Path base, Path dir, List<String> tokens, int multiple, Init init, long seed) {
    try {
      Files.createDirectories(dir);
      AddedTokens.Result added = AddedTokens.write(base, dir, tokens);
      for (String f : LoraMerge.SIDE_FILES) {
        Path src = base.resolve(f);
        if (Files.exists(src) && !Files.exists(dir.resolve(f)) && !f.equals("config.json")) {
          Files.copy(src, dir.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
      }
      ObjectNode config = (ObjectNode) Json.COMPACT.readTree(base.resolve("config.json").toFile());
      int oldRows = config.path("vocab_size").asInt();
      int newRows = rows(oldRows, added.newSize(), multiple);
      config.put("vocab_size", newRows);
      Json.COMPACT
          .writerWithDefaultPrettyPrinter()
          .writeValue(dir.resolve("config.json").toFile(), config);
      double std = config.path("initializer_range").asDouble(0.02);
      writeWeights(base, dir, oldRows, newRows, init, std, seed);
      return new Prepared(dir, added, oldRows, newRows);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot prepare the model with added tokens in " + dir, e);
    }
  }

  /**
   * Rows after adding: unchanged when the tokenizer still fits, else its size rounded up to {@code
   * multiple}.
   */
  static int rows(int oldRows, int tokenizerSize, int multiple) {
    if (tokenizerSize <= oldRows) {
      return oldRows;
    }
    int m = Math.max(1, multiple);
    return (tokenizerSize + m - 1) / m * m;
  }

  private static void writeWeights(
      Path base, Path dir, int oldRows, int newRows, Init init, double std, long seed)
      throws IOException {
    Map<String, String> weightMap = new LinkedHashMap<>();
    Map<Path, String> linked = new LinkedHashMap<>();
    SafetensorsWriter resized = new SafetensorsWriter();
    try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(base)) {
      for (String name : ckpt.names()) {
        boolean vocabMatrix =
            name.equals(DecoderLayout.EMBED) || name.equals(DecoderLayout.LM_HEAD);
        if (vocabMatrix && newRows != oldRows) {
          long[] shape = ckpt.info(name).shape();
          int hidden = (int) shape[1];
          float[] old = ckpt.readFloats(name);
          float[] grown = grow(old, oldRows, newRows, hidden, init, std, seed + name.hashCode());
          SafetensorsDType dtype = ckpt.info(name).dtype();
          resized.addFloats(
              name,
              dtype.isLoadableFloat() ? dtype : SafetensorsDType.F32,
              new long[] {newRows, hidden},
              grown);
          weightMap.put(name, RESIZED_FILE);
          continue;
        }
        Path file = ckpt.fileOf(name).path();
        String link =
            linked.computeIfAbsent(
                file,
                f -> {
                  String n = f.getFileName().toString();
                  // a model.safetensors beside the index would be read instead of it
                  return n.equals(SafetensorsCheckpoint.SINGLE_FILE) ? "base-" + n : n;
                });
        weightMap.put(name, link);
      }
    }
    for (Map.Entry<Path, String> e : linked.entrySet()) {
      Path target = dir.resolve(e.getValue());
      Files.deleteIfExists(target);
      try {
        Files.createSymbolicLink(target, e.getKey().toAbsolutePath());
      } catch (IOException | UnsupportedOperationException noLinks) {
        Files.copy(e.getKey(), target);
      }
    }
    if (newRows != oldRows) {
      resized.write(dir.resolve(RESIZED_FILE));
    }
    ObjectNode index = Json.COMPACT.createObjectNode();
    index.putObject("metadata");
    ObjectNode map = index.putObject("weight_map");
    weightMap.forEach(map::put);
    Json.COMPACT
        .writerWithDefaultPrettyPrinter()
        .writeValue(dir.resolve(SafetensorsCheckpoint.INDEX_FILE).toFile(), index);
  }

  /** {@code old} {@code [oldRows, hidden]} grown to {@code newRows}, new rows per {@code init}. */
  static float[] grow(
      float[] old, int oldRows, int newRows, int hidden, Init init, double std, long seed) {
    float[] out = java.util.Arrays.copyOf(old, newRows * hidden);
    if (init == Init.MEAN) {
      double[] mean = new double[hidden];
      for (int r = 0; r < oldRows; r++) {
        for (int c = 0; c < hidden; c++) {
          mean[c] += old[r * hidden + c];
        }
      }
      for (int r = oldRows; r < newRows; r++) {
        for (int c = 0; c < hidden; c++) {
          out[r * hidden + c] = (float) (mean[c] / oldRows);
        }
      }
    } else {
      Random rng = new Random(seed);
      for (int i = oldRows * hidden; i < out.length; i++) {
        out[i] = (float) (rng.nextGaussian() * std);
      }
    }
    return out;
  }

  /** Copies the tokenizer files of {@code from} (those present) into {@code to}. */
  public static void copyTokenizer(Path from, Path to) {
    try {
      Files.createDirectories(to);
      for (String f : TOKENIZER_FILES) {
        Path src = from.resolve(f);
        if (Files.exists(src)) {
          Files.copy(src, to.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot copy the tokenizer into " + to, e);
    }
  }
}
