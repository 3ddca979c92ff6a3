package dev.editforge.llm;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;

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
    NDIndex at = new NDIndex(":, :, {}:{}, :", length, length + t);
    keys[layer].set(at, k);
    values[layer].set(at, v);
  }

  /** Views of the first {@code upTo} positions of a layer (no copy). */
  NDArray keys(int layer, int upTo) {
    return keys[layer].get(new NDIndex(":, :, 0:{}, :", upTo));
  }

  NDArray values(int layer, int upTo) {
    return values[layer].get(new NDIndex(":, :, 0:{}, :", upTo));
  }

  void advance(int t) {
    length += t;
  }

  @Override
  public void close() {
    manager.close();
  }
}
