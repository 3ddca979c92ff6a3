package dev.editforge.llm;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

/**
 * Keys and values of every layer for a batch, preallocated to {@code capacity} positions ({@code
 * [B, kvHeads, capacity, headDim]} per layer) and filled in place, so a decode step costs no copy
 * of the past. All rows share one write position: batches are left-padded, and padding is masked by
 * the attention mask rather than skipped. Created by {@link DecoderModel#newCache}; inference only
 * (in-place writes do not mix with autograd). Not thread-safe; the creator closes it.
 */
public final class KvCache implements AutoCloseable {
  private final NDManager manager;
  private final NDArray[] keys;
  private final NDArray[] values;
  private final int batchSize;
  private final int capacity;
  private int length;

  /** RoPE cos/sin tables for positions below capacity, made by the model on first use. */
  private NDArray[] ropeTables;

  KvCache(NDManager parent, ModelConfig config, int batchSize, int capacity, DataType dtype) {
    this.manager = parent.newSubManager();
    this.batchSize = batchSize;
    this.capacity = capacity;
    int layers = config.numHiddenLayers();
    keys = new NDArray[layers];
    values = new NDArray[layers];
    Shape shape = new Shape(batchSize, config.numKeyValueHeads(), capacity, config.headDim());
    for (int l = 0; l < layers; l++) {
      keys[l] = manager.zeros(shape, dtype);
      values[l] = manager.zeros(shape, dtype);
    }
  }

  /** Positions already filled (the same for every row). */
  public int length() {
    return length;
  }

  public int capacity() {
    return capacity;
  }

  public int batchSize() {
    return batchSize;
  }

  /** Bytes held by the cache: 2 x layers x B x kvHeads x capacity x headDim x element size. */
  public long bytes() {
    long total = 0;
    for (int l = 0; l < keys.length; l++) {
      total += 2 * keys[l].getShape().size() * keys[l].getDataType().getNumOfBytes();
    }
    return total;
  }

  void write(int layer, NDArray k, NDArray v) {
    int t = (int) k.getShape().get(2);
    if (length + t > capacity) {
      throw new IllegalStateException(
          "KV cache full: " + length + " + " + t + " > capacity " + capacity);
    }
    if (keys[layer] instanceof PtNDArray pk
        && values[layer] instanceof PtNDArray pv
        && k instanceof PtNDArray kk
        && v instanceof PtNDArray vv) {
      // Straight to libtorch's slice + copy_ into the preallocated rows: no index parsing and no
      // advanced-indexing path (NDArray.set goes through index_put_ with a parsed NDIndex).
      long[] from = {0, 0, length, 0};
      long[] to = keys[layer].getShape().getShape().clone();
      to[2] = length + t;
      long[] step = {1, 1, 1, 1};
      JniUtils.indexSet(pk, kk, from, to, step);
      JniUtils.indexSet(pv, vv, from, to, step);
      return;
    }
    NDIndex at = new NDIndex(":, :, {}:{}, :", length, length + t);
    keys[layer].set(at, k);
    values[layer].set(at, v);
  }

  /** Views of the first {@code upTo} positions of a layer (no copy). */
  NDArray keys(int layer, int upTo) {
    return prefix(keys[layer], upTo);
  }

  NDArray values(int layer, int upTo) {
    return prefix(values[layer], upTo);
  }

  private static NDArray prefix(NDArray a, int upTo) {
    return a instanceof PtNDArray p
        ? JniUtils.slice(p, 2, 0, upTo, 1)
        : a.get(new NDIndex(":, :, 0:{}, :", upTo));
  }

  /** The RoPE tables the model keeps here, or null before its first forward with this cache. */
  NDArray[] ropeTables() {
    return ropeTables;
  }

  /** Stores the model's RoPE tables, made on {@link #manager()} (closed with the cache). */
  void ropeTables(NDArray[] tables) {
    this.ropeTables = tables;
  }

  /** The cache's own manager: what the cache holds lives and dies with it. */
  NDManager manager() {
    return manager;
  }

  void advance(int t) {
    length += t;
  }

  @Override
  public void close() {
    manager.close();
  }
}
