package dev.editforge.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDArrays;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.editforge.llm.DecoderLayout;
import dev.editforge.llm.DecoderModel;
import dev.editforge.llm.SafetensorsCheckpoint;
import dev.editforge.llm.SafetensorsDType;
import dev.editforge.llm.SafetensorsWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Folds an adapter into its base model ({@code W' = W + (alpha / r) B A}) and saves the result in
 * Hugging Face layout: {@code config.json}, the weights (each tensor in the dtype the base
 * checkpoint stores it in; F32 if unknown) and the tokenizer/generation files copied from the base
 * directory, so the merged model loads anywhere the base did. The weights are one {@code
 * model.safetensors} up to the max shard size and shards with {@code model.safetensors.index.json}
 * above it, as transformers saves them ({@link SafetensorsWriter#writeSharded}): a 7B model in
 * float16 is 15 GB, more than some hubs and file systems take in one file.
 *
 * <p>An adapter's {@link TrainableTokens} replace their rows of {@code model.embed_tokens.weight}
 * and (untied) {@code lm_head.weight}, as PEFT's {@code merge_and_unload} does; the base must then
 * be the model resized to the adapter's tokenizer, whose tokenizer files are the ones copied.
 */
public final class LoraMerge {
  /** Non-weight files of a Hugging Face model directory, copied when present. */
  public static final List<String> SIDE_FILES =
      List.of(
          "config.json",
          "generation_config.json",
          "tokenizer.json",
          "tokenizer_config.json",
          "special_tokens_map.json",
          "vocab.json",
          "merges.txt",
          "tokenizer.model",
          "added_tokens.json",
          "chat_template.jinja",
          "chat_template.json");

  /** transformers' default {@code max_shard_size="5GB"} (decimal gigabytes). */
  public static final long DEFAULT_MAX_SHARD_BYTES = 5_000_000_000L;

  private LoraMerge() {}

  /**
   * Merges {@code adapter} into {@code base}'s weights and writes the merged model to {@code out},
   * sharded above {@link #DEFAULT_MAX_SHARD_BYTES}.
   */
  public static void saveMerged(DecoderModel base, LoraAdapter adapter, Path out) {
    saveMerged(base, adapter, out, DEFAULT_MAX_SHARD_BYTES);
  }

  /**
   * Merges {@code adapter} into {@code base}'s weights and writes the merged model to {@code out},
   * in shards of at most {@code maxShardBytes} (a larger tensor gets a shard of its own).
   */
  public static void saveMerged(
      DecoderModel base, LoraAdapter adapter, Path out, long maxShardBytes) {
    try {
      Files.createDirectories(out);
      for (String f : SIDE_FILES) {
        Path src = base.directory().resolve(f);
        if (Files.exists(src)) {
          Files.copy(src, out.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    Map<String, SafetensorsDType> stored = new HashMap<>();
    try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(base.directory())) {
      for (String name : base.weights().keySet()) {
        if (ckpt.contains(name)) {
          stored.put(name, ckpt.info(name).dtype());
        }
      }
    }
    Map<String, LoraAdapter.Factors> byWeight = new HashMap<>();
    for (LoraAdapter.Factors f : adapter.factors().values()) {
      byWeight.put(f.target().projection().weightName(f.target().layer()), f);
    }
    float scale = (float) adapter.config().scaling();
    int r = adapter.config().rank();
    try (NDManager m = NDManager.newBaseManager(base.device(), "PyTorch")) {
      SafetensorsWriter w = new SafetensorsWriter();
      for (Map.Entry<String, NDArray> e : base.weights().entrySet()) {
        SafetensorsDType dtype = stored.getOrDefault(e.getKey(), SafetensorsDType.F32);
        if (!dtype.isLoadableFloat()) {
          dtype = SafetensorsDType.F32;
        }
        LoraAdapter.Factors f = byWeight.get(e.getKey());
        NDArray value = e.getValue();
        TrainableTokens rows = adapter.trainableTokens();
        if (rows != null && e.getKey().equals(DecoderLayout.EMBED)) {
          value = replaceRows(m, value, rows, rows.embed());
        } else if (rows != null && !rows.tied() && e.getKey().equals(DecoderLayout.LM_HEAD)) {
          value = replaceRows(m, value, rows, rows.head());
        }
        if (f != null) {
          NDArray a = m.create(f.a(), new Shape(r, f.target().in()));
          NDArray b = m.create(f.b(), new Shape(f.target().out(), r));
          NDArray w32 =
              value.getDataType() == DataType.FLOAT32
                  ? value
                  : value.toType(DataType.FLOAT32, false);
          NDArray delta = b.matMul(a).mul(scale);
          // GPT-2's Conv1D stores [in, out]: PEFT merges with fan_in_fan_out, i.e. transposed.
          value = w32.add(f.target().projection().conv1d() ? delta.transpose() : delta);
          value.attach(m);
        }
        w.add(e.getKey(), value, dtype);
      }
      w.writeSharded(out, maxShardBytes);
    }
  }

  /** {@code weight} with rows {@code start .. start + count - 1} set to {@code values}. */
  private static NDArray replaceRows(
      NDManager m, NDArray weight, TrainableTokens rows, float[] values) {
    long vocab = weight.getShape().get(0);
    if (rows.start() + rows.count() > vocab) {
      throw new IllegalArgumentException(
          "the adapter trains token ids up to "
              + (rows.start() + rows.count() - 1)
              + " but the base model has "
              + vocab
              + " rows; merge into the model resized to the adapter's tokenizer");
    }
    NDArray w32 =
        weight.getDataType() == DataType.FLOAT32 ? weight : weight.toType(DataType.FLOAT32, false);
    if (w32 != weight) {
      w32.attach(m);
    }
    NDList parts = new NDList();
    if (rows.start() > 0) {
      parts.add(w32.get("{}:{}", 0, rows.start()));
    }
    parts.add(m.create(values, new Shape(rows.count(), rows.hidden())));
    if (rows.start() + rows.count() < vocab) {
      parts.add(w32.get("{}:", rows.start() + rows.count()));
    }
    NDArray merged = NDArrays.concat(parts, 0);
    merged.attach(m);
    for (NDArray p : parts) {
      p.attach(m);
    }
    return merged;
  }
}
