package dev.editforge.llm;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.core.Linear;
import java.util.List;
import java.util.Map;

/**
 * {@link DecoderModel#forward} for a GPT-2 ({@link Gpt2Layout}): {@code x = wte[ids] +
 * wpe[positions]}; per block {@code x += c_proj(attn(c_attn(ln_1(x))))} and {@code x +=
 * c_proj(gelu_new(c_fc(ln_2(x))))}; logits {@code = ln_f(x) wte^T}. Shares the decoder's input
 * contract (padding and packed masks, explicit positions, {@link KvCache}, {@link ProjectionDelta}
 * keyed by {@link Projection#key()}). Dropout is not applied (as in the Llama path, and as
 * transformers does in eval mode).
 *
 * <p>Constants that enter products ({@code gelu_new}'s, the attention scale) are libtorch-owned
 * tensors: a Java-backed scalar would be freed before backward reads it when the weights train.
 * Thread-safe as {@link DecoderModel} is; the model owns and closes it.
 */
final class Gpt2Forward {
  private record Block(
      NDArray ln1w, NDArray ln1b, NDArray ln2w, NDArray ln2b, NDArray[] weight, NDArray[] bias) {}

  private final DecoderModel model;
  private final ModelConfig config;
  private final DataType dtype;
  private final NDArray wte;
  private final NDArray wpe;
  private final NDArray lnfW;
  private final NDArray lnfB;
  private final NDArray head;
  private final Block[] blocks;
  private final NDArray half;
  private final NDArray one;
  private final NDArray cubic;
  private final NDArray tanhScale;
  private final NDArray attentionScale;

  Gpt2Forward(DecoderModel model, NDManager manager, Map<String, NDArray> weights) {
    this.model = model;
    this.config = model.config();
    this.dtype = model.dtype();
    this.wte = weights.get(Gpt2Layout.WTE);
    this.wpe = weights.get(Gpt2Layout.WPE);
    this.lnfW = weights.get(Gpt2Layout.LN_F + ".weight");
    this.lnfB = weights.get(Gpt2Layout.LN_F + ".bias");
    this.head = config.tieWordEmbeddings() ? wte : weights.get(DecoderLayout.LM_HEAD);
    List<Projection> projections = Projection.of(config);
    blocks = new Block[config.numHiddenLayers()];
    for (int l = 0; l < blocks.length; l++) {
      NDArray[] w = new NDArray[projections.size()];
      NDArray[] b = new NDArray[projections.size()];
      for (int i = 0; i < projections.size(); i++) {
        w[i] = weights.get(projections.get(i).weightName(l));
        b[i] = weights.get(projections.get(i).biasName(l));
      }
      blocks[l] =
          new Block(
              weights.get(Gpt2Layout.norm(l, 1) + ".weight"),
              weights.get(Gpt2Layout.norm(l, 1) + ".bias"),
              weights.get(Gpt2Layout.norm(l, 2) + ".weight"),
              weights.get(Gpt2Layout.norm(l, 2) + ".bias"),
              w,
              b);
    }
    half = constant(manager, 0.5f);
    one = constant(manager, 1f);
    cubic = constant(manager, 0.044715f);
    tanhScale = constant(manager, (float) Math.sqrt(2.0 / Math.PI));
    attentionScale = constant(manager, (float) (1.0 / Math.sqrt(config.headDim())));
  }

  private NDArray constant(NDManager manager, float v) {
    try (NDArray shared = manager.create(new float[] {v}, new Shape(1))) {
      NDArray owned = shared.duplicate();
      return dtype == DataType.FLOAT32 ? owned : owned.toType(dtype, false);
    }
  }

  NDArray forward(DecoderInput in) {
    NDManager m = in.inputIds().getManager();
    int batch = in.batchSize();
    int time = in.length();
    KvCache cache = in.cache();
    int past = cache == null ? 0 : cache.length();
    int total = past + time;
    if (cache != null && cache.batchSize() != batch) {
      throw new IllegalArgumentException(
          "cache holds " + cache.batchSize() + " rows, input has " + batch);
    }
    if (total > config.maxPositionEmbeddings()) {
      throw new IllegalArgumentException(
          "GPT-2 has learned positions for "
              + config.maxPositionEmbeddings()
              + " tokens (n_positions); this forward reaches "
              + total);
    }
    if (in.attentionMask() != null && in.attentionMask().getShape().get(1) != total) {
      throw new IllegalArgumentException(
          "attentionMask must cover past and new positions: expected ["
              + batch
              + ", "
              + total
              + "], got "
              + in.attentionMask().getShape());
    }
    NDArray logits;
    try (NDScope scope = new NDScope()) {
      NDArray positions = model.positions(in, m, past, total);
      NDArray mask = model.additiveMask(in, m, past, total);
      // [B|1, 1, 1, T, S] -> [B|1, 1, T, S]: heads are not grouped here
      mask = mask == null ? null : mask.squeeze(1);
      NDArray x =
          embed(in.inputIds(), wte).add(embed(positions.toType(DataType.INT64, false), wpe));
      for (int l = 0; l < blocks.length; l++) {
        NDArray next;
        try (NDScope layerScope = new NDScope()) {
          next = block(l, x, mask, cache, total, in.delta());
          NDScope.unregister(next);
        }
        NDScope.register(next);
        x.close();
        x = next;
      }
      if (in.lastPositionOnly() && time > 1) {
        x = x.get(":, {}:, :", time - 1);
      }
      logits = Linear.linear(layerNorm(x, lnfW, lnfB), head, null).singletonOrThrow();
      if (logits.getDataType() != DataType.FLOAT32) {
        logits = logits.toType(DataType.FLOAT32, false);
      }
      NDScope.unregister(logits);
    }
    if (cache != null) {
      cache.advance(time);
    }
    return logits;
  }

  private static NDArray embed(NDArray ids, NDArray table) {
    return ids.getNDArrayInternal().embedding(ids, table, SparseFormat.DENSE).singletonOrThrow();
  }

  private NDArray block(
      int l, NDArray x, NDArray mask, KvCache cache, int total, ProjectionDelta d) {
    Block w = blocks[l];
    int batch = (int) x.getShape().get(0);
    int time = (int) x.getShape().get(1);
    int heads = config.numAttentionHeads();
    int headDim = config.headDim();
    long hidden = config.hiddenSize();

    NDArray h = layerNorm(x, w.ln1w(), w.ln1b());
    NDList qkv = project(h, l, 0, w, d).split(3, 2);
    NDArray q = qkv.get(0).reshape(batch, time, heads, headDim).transpose(0, 2, 1, 3);
    NDArray k = qkv.get(1).reshape(batch, time, heads, headDim).transpose(0, 2, 1, 3);
    NDArray v = qkv.get(2).reshape(batch, time, heads, headDim).transpose(0, 2, 1, 3);
    NDArray keys = k;
    NDArray values = v;
    if (cache != null) {
      cache.write(l, k, v);
      keys = cache.keys(l, total);
      values = cache.values(l, total);
    }
    NDArray scores = q.matMul(keys.transpose(0, 1, 3, 2)).mul(attentionScale);
    if (scores.getDataType() != DataType.FLOAT32) {
      scores = scores.toType(DataType.FLOAT32, false);
    }
    NDArray probs = (mask == null ? scores : scores.add(mask)).softmax(3);
    if (dtype != DataType.FLOAT32) {
      probs = probs.toType(dtype, false);
    }
    NDArray attended = probs.matMul(values).transpose(0, 2, 1, 3).reshape(batch, time, hidden);
    NDArray afterAttention = x.add(project(attended, l, 1, w, d));

    NDArray h2 = layerNorm(afterAttention, w.ln2w(), w.ln2b());
    NDArray act = geluNew(project(h2, l, 2, w, d));
    return afterAttention.add(project(act, l, 3, w, d));
  }

  /** {@code x W + b} (Conv1D: W is {@code [in, out]}) plus the hook's delta. */
  private NDArray project(NDArray x, int layer, int index, Block w, ProjectionDelta delta) {
    NDArray y = x.matMul(w.weight()[index]).add(w.bias()[index]);
    if (delta != null) {
      NDArray d = delta.delta(layer, Projection.of(config).get(index).key(), x);
      if (d != null) {
        y = y.add(d);
      }
    }
    return y;
  }

  /** transformers' {@code NewGELUActivation}: 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
  private NDArray geluNew(NDArray x) {
    NDArray inner = x.add(x.mul(x).mul(x).mul(cubic)).mul(tanhScale);
    return x.mul(inner.tanh().add(one)).mul(half);
  }

  private NDArray layerNorm(NDArray x, NDArray weight, NDArray bias) {
    return x.getNDArrayInternal()
        .layerNorm(x, new Shape(config.hiddenSize()), weight, bias, (float) config.rmsNormEps())
        .singletonOrThrow();
  }
}
