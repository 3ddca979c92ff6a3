package dev.editforge.llm;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDList;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.index.NDIndex;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.ndarray.types.SparseFormat;
import ai.djl.nn.Activation;
import ai.djl.nn.core.Linear;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A Llama-family decoder (Llama 2/3, Qwen2/2.5, Mistral) on DJL's PyTorch engine: RMSNorm,
 * rotate-half RoPE (with llama3 or linear scaling), grouped-query attention, SwiGLU, optional q/k/v
 * bias and tied embeddings, bound to one {@link Device}. Computes in float32, or float16 on GPU. A
 * GPT-2 ({@link ModelConfig#isGpt2()}) loads through the same door and runs {@link Gpt2Forward}
 * under the same contract, so generation, LoRA and training code serve both.
 *
 * <p>{@link #forward} serves both generation (left-padded batch, attention mask, per-row positions,
 * {@link KvCache}) and training: it works under a {@code GradientCollector} with the base weights
 * frozen (they never require gradients), returns logits for every position, accepts positions that
 * restart for packed samples and an extra attention mask that keeps them apart, and routes every
 * linear projection through a {@link ProjectionDelta} so LoRA adapters (one per batch row if
 * wanted) plug in from outside. Weights keep their Hugging Face names ({@link #weights()}).
 *
 * <p>Decode speed: a Llama-family model is loaded with q/k/v and gate/up fused (one matmul each per
 * layer; their entries in {@link #weights()} are views into the fused tensors, so nothing is held
 * twice), a cached forward looks RoPE up in tables the {@link KvCache} keeps, and a single new
 * position needs no mask. When the weights require gradients (full fine-tuning trains the views),
 * the forward runs the per-projection matmuls on the views so that gradients reach them.
 *
 * <p>Memory: each layer runs in its own {@link NDScope}, so a forward leaves behind only the logits
 * it returns (on the manager of the input ids); a long generation loop that closes its per-step
 * manager does not accumulate native memory.
 *
 * <p>Thread-safe: weights are read-only and a forward keeps no state in the model, so threads may
 * run forwards concurrently with their own input managers and caches. The loader's caller owns the
 * model and closes it (which frees the weights).
 */
public final class DecoderModel implements AutoCloseable {
  /**
   * Added to attention scores of masked keys; finite so that fully masked (padding) rows stay
   * finite.
   */
  private static final float MASKED = -1e9f;

  /**
   * One layer's weights. {@code qkv} ({@code [q; k; v]} rows, with {@code qkvBias} when the model
   * has q/k/v bias) and {@code gateUp} ({@code [gate; up]}) are the fused weights of a Llama-family
   * model loaded fused, else null; {@code weight} and {@code bias} then hold views into them.
   */
  private record LayerWeights(
      NDArray inputNorm,
      NDArray postNorm,
      NDArray[] weight,
      NDArray[] bias,
      NDArray qkv,
      NDArray qkvBias,
      NDArray gateUp) {}

  /** A layer's fused weights as loaded; views of them are what {@link #weights()} exposes. */
  private record Fused(NDArray qkv, NDArray qkvBias, NDArray gateUp) {}

  private final Path directory;
  private final ModelConfig config;
  private final Device device;
  private final DataType dtype;
  private final NDManager manager;
  private final Map<String, NDArray> weights;
  private final LayerWeights[] layers;
  private final NDArray embed;
  private final NDArray finalNorm;
  private final NDArray lmHead;
  private final NDArray invFreq;

  /**
   * rotate_half as a matrix: {@code x @ rotation == cat(-x2, x1)}, exactly (entries are 0 and +-1).
   */
  private final NDArray rotation;

  private final float attentionScale;

  /** The GPT-2 forward, or null for a Llama-family model. */
  private final Gpt2Forward gpt2;

  /** Where q ends and k ends in a fused q/k/v output's last dimension. */
  private final long[] qkvSplit;

  /** Per layer, the fused weights; null when loaded unfused (GPT-2 always). */
  private final Fused[] fused;

  private DecoderModel(
      Path directory,
      ModelConfig config,
      Device device,
      DataType dtype,
      NDManager manager,
      Map<String, NDArray> weights,
      Fused[] fused) {
    this.directory = directory;
    this.config = config;
    this.device = device;
    this.dtype = dtype;
    this.manager = manager;
    this.weights = Collections.unmodifiableMap(weights);
    this.layers = new LayerWeights[config.numHiddenLayers()];
    for (int l = 0; l < layers.length; l++) {
      NDArray[] w = new NDArray[Projection.values().length];
      NDArray[] b = new NDArray[Projection.values().length];
      for (Projection p : Projection.values()) {
        w[p.ordinal()] = weights.get(p.weightName(l));
        b[p.ordinal()] = weights.get(p.biasName(l));
      }
      layers[l] =
          new LayerWeights(
              weights.get(DecoderLayout.inputNorm(l)),
              weights.get(DecoderLayout.postAttentionNorm(l)),
              w,
              b,
              fused == null ? null : fused[l].qkv(),
              fused == null ? null : fused[l].qkvBias(),
              fused == null ? null : fused[l].gateUp());
    }
    this.fused = fused;
    this.embed = weights.get(DecoderLayout.EMBED);
    this.finalNorm = weights.get(DecoderLayout.FINAL_NORM);
    this.lmHead = config.tieWordEmbeddings() ? embed : weights.get(DecoderLayout.LM_HEAD);
    this.invFreq = manager.create(inverseFrequencies(config));
    this.rotation =
        manager
            .create(
                rotateHalfMatrix(config.headDim()), new Shape(config.headDim(), config.headDim()))
            .toType(dtype, false);
    this.attentionScale = (float) (1.0 / Math.sqrt(config.headDim()));
    this.gpt2 = config.isGpt2() ? new Gpt2Forward(this, manager, this.weights) : null;
    int qOut = config.numAttentionHeads() * config.headDim();
    this.qkvSplit = new long[] {qOut, qOut + (long) config.numKeyValueHeads() * config.headDim()};
  }

  /**
   * Loads {@code dir} (config.json + safetensors) onto {@code device}, computing in {@code dtype}
   * (FLOAT32; FLOAT16 on GPU only). Every tensor's presence and shape is checked against
   * config.json before any weight is read; problems are one {@link ModelLoadException}.
   */
  public static DecoderModel load(Path dir, Device device, DataType dtype) {
    return load(dir, device, dtype, true);
  }

  /**
   * As {@link #load(Path, Device, DataType)}; {@code fuse} (Llama family only) loads q/k/v and
   * gate/up of each layer into one weight each, so a step runs one matmul per group, and {@link
   * #weights()} then exposes the per-projection weights as views into them (no second copy).
   * Unfused, every projection is its own tensor.
   */
  public static DecoderModel load(Path dir, Device device, DataType dtype, boolean fuse) {
    if (dtype != DataType.FLOAT32 && dtype != DataType.FLOAT16) {
      throw new IllegalArgumentException("compute dtype must be float32 or float16, not " + dtype);
    }
    if (dtype == DataType.FLOAT16 && !device.isGpu()) {
      throw new IllegalArgumentException("float16 compute needs a GPU; use float32 on " + device);
    }
    DjlOffline.ensure();
    ModelConfig config = ModelConfig.load(dir);
    try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(dir)) {
      Map<String, long[]> expected = DecoderLayout.expectedShapes(config);
      // GPT-2 checkpoints name tensors with or without "transformer."; others as expected.
      Map<String, String> stored =
          config.isGpt2() ? Gpt2Layout.storedNames(dir, ckpt.names(), expected) : null;
      for (Map.Entry<String, long[]> e : expected.entrySet()) {
        String key = stored == null ? e.getKey() : stored.get(e.getKey());
        if (!ckpt.contains(key)) {
          throw new ModelLoadException(
              dir, "the checkpoint has no tensor " + e.getKey() + ", which config.json implies");
        }
        long[] actual = ckpt.info(key).shape();
        if (!Arrays.equals(actual, e.getValue())) {
          throw new ModelLoadException(
              ckpt.fileOf(key).path(),
              "tensor "
                  + key
                  + " has shape "
                  + Arrays.toString(actual)
                  + " but config.json implies "
                  + Arrays.toString(e.getValue()));
        }
        if (!ckpt.info(key).dtype().isLoadableFloat()) {
          throw new ModelLoadException(
              ckpt.fileOf(key).path(),
              "tensor "
                  + key
                  + " has dtype "
                  + ckpt.info(key).dtype()
                  + "; weights must be F32, F16 or BF16");
        }
      }
      NDManager manager = NDManager.newBaseManager(device, "PyTorch");
      try {
        Map<String, NDArray> weights = new LinkedHashMap<>();
        Fused[] fused = fuse && !config.isGpt2() ? loadFused(ckpt, config, manager, dtype) : null;
        Map<String, NDArray> views = fused == null ? Map.of() : fusedViews(config, fused);
        for (String name : expected.keySet()) {
          NDArray w = views.get(name);
          if (w == null) {
            w = ckpt.load(stored == null ? name : stored.get(name), manager, dtype);
          }
          w.setName(name);
          weights.put(name, w);
        }
        return new DecoderModel(dir, config, device, dtype, manager, weights, fused);
      } catch (RuntimeException e) {
        manager.close();
        throw e;
      }
    }
  }

  private static final List<Projection> QKV =
      List.of(Projection.Q_PROJ, Projection.K_PROJ, Projection.V_PROJ);
  private static final List<Projection> GATE_UP = List.of(Projection.GATE_PROJ, Projection.UP_PROJ);

  /** Each layer's q/k/v and gate/up checkpoint tensors, read into rows of one weight per group. */
  private static Fused[] loadFused(
      SafetensorsCheckpoint ckpt, ModelConfig c, NDManager manager, DataType dtype) {
    Fused[] out = new Fused[c.numHiddenLayers()];
    for (int l = 0; l < out.length; l++) {
      NDArray qkv = loadRows(ckpt, c, manager, dtype, l, QKV, false);
      NDArray qkvBias = c.qkvBias() ? loadRows(ckpt, c, manager, dtype, l, QKV, true) : null;
      NDArray gateUp = loadRows(ckpt, c, manager, dtype, l, GATE_UP, false);
      out[l] = new Fused(qkv, qkvBias, gateUp);
    }
    return out;
  }

  private static NDArray loadRows(
      SafetensorsCheckpoint ckpt,
      ModelConfig c,
      NDManager manager,
      DataType dtype,
      int layer,
      List<Projection> group,
      boolean bias) {
    long rows = 0;
    for (Projection p : group) {
      rows += p.outFeatures(c);
    }
    Shape shape = bias ? new Shape(rows) : new Shape(rows, group.get(0).inFeatures(c));
    NDArray fused = manager.zeros(shape, dtype);
    long at = 0;
    for (Projection p : group) {
      ckpt.loadInto(bias ? p.biasName(layer) : p.weightName(layer), fused, at);
      at += p.outFeatures(c);
    }
    return fused;
  }

  /** The per-projection weights (and q/k/v biases) as row views of the fused ones, by HF name. */
  private static Map<String, NDArray> fusedViews(ModelConfig c, Fused[] fused) {
    Map<String, NDArray> views = new LinkedHashMap<>();
    for (int l = 0; l < fused.length; l++) {
      addViews(views, c, l, QKV, fused[l].qkv(), false);
      if (fused[l].qkvBias() != null) {
        addViews(views, c, l, QKV, fused[l].qkvBias(), true);
      }
      addViews(views, c, l, GATE_UP, fused[l].gateUp(), false);
    }
    return views;
  }

  private static void addViews(
      Map<String, NDArray> views,
      ModelConfig c,
      int layer,
      List<Projection> group,
      NDArray fused,
      boolean bias) {
    long at = 0;
    for (Projection p : group) {
      long end = at + p.outFeatures(c);
      // A basic slice: libtorch returns a view sharing the fused tensor's storage.
      NDArray view = fused.get(new NDIndex("{}:{}", at, end));
      views.put(bias ? p.biasName(layer) : p.weightName(layer), view);
      at = end;
    }
  }

  /**
   * Bytes of the tensors the model actually holds: the fused weights plus every weight that is not
   * a view of one. Equal to {@link #weightBytes()} when views add no memory.
   */
  long residentWeightBytes() {
    long total = 0;
    java.util.Set<String> viewed = new java.util.HashSet<>();
    if (fused != null) {
      for (int l = 0; l < fused.length; l++) {
        for (NDArray f : new NDArray[] {fused[l].qkv(), fused[l].qkvBias(), fused[l].gateUp()}) {
          if (f != null) {
            total += f.getShape().size() * f.getDataType().getNumOfBytes();
          }
        }
        for (Projection p : QKV) {
          viewed.add(p.weightName(l));
          if (fused[l].qkvBias() != null) {
            viewed.add(p.biasName(l));
          }
        }
        for (Projection p : GATE_UP) {
          viewed.add(p.weightName(l));
        }
      }
    }
    for (Map.Entry<String, NDArray> e : weights.entrySet()) {
      if (!viewed.contains(e.getKey())) {
        total += e.getValue().getShape().size() * e.getValue().getDataType().getNumOfBytes();
      }
    }
    return total;
  }

  /** Whether q/k/v and gate/up run as one matmul per group. */
  public boolean fused() {
    return fused != null;
  }

  /**
   * Per-dimension rotary frequencies, with the config's scaling applied (float32, like
   * transformers).
   */
  static float[] inverseFrequencies(ModelConfig c) {
    int half = c.headDim() / 2;
    float[] out = new float[half];
    ModelConfig.RopeScaling s = c.ropeScaling();
    for (int i = 0; i < half; i++) {
      double f = 1.0 / Math.pow(c.ropeTheta(), (2.0 * i) / c.headDim());
      if (s != null && s.type().equals("linear")) {
        f /= s.factor();
      } else if (s != null && s.type().equals("llama3")) {
        double lowFreqWavelen = s.originalMaxPositionEmbeddings() / s.lowFreqFactor();
        double highFreqWavelen = s.originalMaxPositionEmbeddings() / s.highFreqFactor();
        double wavelen = 2 * Math.PI / f;
        if (wavelen > lowFreqWavelen) {
          f /= s.factor();
        } else if (wavelen >= highFreqWavelen) {
          double smooth =
              (s.originalMaxPositionEmbeddings() / wavelen - s.lowFreqFactor())
                  / (s.highFreqFactor() - s.lowFreqFactor());
          f = (1 - smooth) * f / s.factor() + smooth * f;
        }
      }
      out[i] = (float) f;
    }
    return out;
  }

  private static float[] rotateHalfMatrix(int d) {
    int h = d / 2;
    float[] r = new float[d * d];
    for (int j = 0; j < h; j++) {
      r[(j + h) * d + j] = -1f;
      r[j * d + j + h] = 1f;
    }
    return r;
  }

  public ModelConfig config() {
    return config;
  }

  public Path directory() {
    return directory;
  }

  public Device device() {
    return device;
  }

  /** The compute (and weight) type: FLOAT32, or FLOAT16 on GPU. */
  public DataType dtype() {
    return dtype;
  }

  /**
   * Every weight by its Hugging Face name ({@code model.layers.0.self_attn.q_proj.weight}, ...; no
   * {@code lm_head.weight} when embeddings are tied). Frozen and shared: read, never modify.
   */
  public Map<String, NDArray> weights() {
    return weights;
  }

  /** The weight {@code name}; throws when the model has none of that name. */
  public NDArray weight(String name) {
    NDArray w = weights.get(name);
    if (w == null) {
      throw new IllegalArgumentException("no weight " + name + " in " + directory);
    }
    return w;
  }

  /** Bytes of all weights as held on the device (tied embeddings counted once). */
  public long weightBytes() {
    long total = 0;
    for (NDArray w : weights.values()) {
      total += w.getShape().size() * w.getDataType().getNumOfBytes();
    }
    return total;
  }

  /**
   * A cache for {@code batch} rows of up to {@code capacity} positions, owned by {@code owner}'s
   * scope.
   */
  public KvCache newCache(NDManager owner, int batch, int capacity) {
    return new KvCache(owner, config, batch, capacity, dtype);
  }

  /**
   * Runs the decoder; returns float32 logits {@code [B, T, V]} (or {@code [B, 1, V]} with {@link
   * DecoderInput#lastPositionOnly()}) on the input ids' manager, which the caller closes. With a
   * cache, appends this call's keys and values and advances it by {@code T}.
   */
  public NDArray forward(DecoderInput in) {
    if (gpt2 != null) {
      return gpt2.forward(in);
    }
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
    DecodeProfile.Recorder rec = time == 1 ? DecodeProfile.recorder() : null;
    // Full fine-tuning makes the per-projection views trainable leaves: gradients reach them only
    // if the forward reads them, so the fused weights serve frozen models (inference, LoRA) only.
    boolean useFused =
        fused != null && !layers[0].weight()[Projection.Q_PROJ.ordinal()].hasGradient();
    long t = rec == null ? 0 : System.nanoTime();
    try (NDScope scope = new NDScope()) {
      NDArray positions = positions(in, m, past, total);
      NDArray cos;
      NDArray sin;
      NDArray cosQ;
      NDArray sinQ;
      if (cache != null) {
        // Looked up in tables made once per cache: a step computes no trigonometry.
        NDArray[] tables = ropeTables(cache);
        cos = lookup(positions, tables[0]).expandDims(1);
        sin = lookup(positions, tables[1]).expandDims(1);
        cosQ = lookup(positions, tables[2]).expandDims(1);
        sinQ = lookup(positions, tables[3]).expandDims(1);
      } else {
        NDArray half = positions.toType(DataType.FLOAT32, false).expandDims(2).mul(invFreq);
        NDArray angles = half.concat(half, 2);
        cos = angles.cos().expandDims(1);
        sin = angles.sin().expandDims(1);
        cosQ = cos.mul(attentionScale);
        sinQ = sin.mul(attentionScale);
        if (dtype != DataType.FLOAT32) {
          cos = cos.toType(dtype, false);
          sin = sin.toType(dtype, false);
          cosQ = cosQ.toType(dtype, false);
          sinQ = sinQ.toType(dtype, false);
        }
      }
      // [B, 1, T, D] for keys; queries also carry the attention scale, saving a multiply per layer.
      // Queries are [B, kvH, G, T, D], or [B, kvH, G, D] for a single new position.
      if (time > 1) {
        cosQ = cosQ.expandDims(1);
        sinQ = sinQ.expandDims(1);
      }
      if (rec != null) {
        t = rec.lap(DecodeProfile.Category.ROPE, t, cache != null ? 8 : 12);
      }
      NDArray mask = additiveMask(in, m, past, total);
      if (mask != null && time == 1) {
        mask = mask.squeeze(3);
      }
      if (rec != null) {
        t = rec.lap(DecodeProfile.Category.STEP_SETUP, t, mask == null ? 0 : 12);
      }
      NDArray x =
          in.inputIds()
              .getNDArrayInternal()
              .embedding(in.inputIds(), embed, SparseFormat.DENSE)
              .singletonOrThrow();
      if (in.delta() != null) {
        x = in.delta().embeddings(in.inputIds(), x);
      }
      if (rec != null) {
        t = rec.lap(DecodeProfile.Category.EMBED, t, 1);
      }
      for (int l = 0; l < layers.length; l++) {
        NDArray next;
        try (NDScope layerScope = new NDScope()) {
          next =
              layer(
                  l,
                  x,
                  new NDArray[] {cos, sin, cosQ, sinQ},
                  mask,
                  cache,
                  total,
                  in.delta(),
                  useFused,
                  rec);
          NDScope.unregister(next);
          t = rec == null ? 0 : System.nanoTime();
        }
        NDScope.register(next);
        x.close();
        x = next;
        if (rec != null) {
          t = rec.lap(DecodeProfile.Category.STEP_SETUP, t, 1);
        }
      }
      if (in.lastPositionOnly() && time > 1) {
        x = x.get(":, {}:, :", time - 1);
      }
      NDArray hidden = rmsNorm(x, finalNorm);
      if (rec != null) {
        t = rec.lap(DecodeProfile.Category.NORM_ELEMENTWISE, t, 6);
      }
      logits = Linear.linear(hidden, lmHead, null).singletonOrThrow();
      if (logits.getDataType() != DataType.FLOAT32) {
        logits = logits.toType(DataType.FLOAT32, false);
      }
      if (in.delta() != null) {
        logits = in.delta().logits(hidden, logits);
      }
      if (rec != null) {
        t = rec.lap(DecodeProfile.Category.LM_HEAD, t, 1);
      }
      NDScope.unregister(logits);
    }
    if (rec != null) {
      rec.lap(DecodeProfile.Category.STEP_SETUP, t, 1);
    }
    if (cache != null) {
      cache.advance(time);
    }
    return logits;
  }

  /**
   * cos, sin, and both times the attention scale, {@code [capacity, headDim]} in the compute type,
   * for every position the cache can hold; made on the cache's manager at its first forward.
   */
  private NDArray[] ropeTables(KvCache cache) {
    NDArray[] tables = cache.ropeTables();
    if (tables != null) {
      return tables;
    }
    NDManager cm = cache.manager();
    NDArray half =
        cm.arange(0, cache.capacity(), 1, DataType.FLOAT32)
            .expandDims(1)
            .mul(invFreq.toDevice(cm.getDevice(), false));
    NDArray angles = half.concat(half, 1);
    NDArray cos = angles.cos();
    NDArray sin = angles.sin();
    tables = new NDArray[] {cos, sin, cos.mul(attentionScale), sin.mul(attentionScale)};
    for (int i = 0; i < tables.length; i++) {
      if (dtype != DataType.FLOAT32) {
        tables[i] = tables[i].toType(dtype, false);
      }
      tables[i].attach(cm);
      // Kept beyond this forward's scope: the tables live as long as the cache.
      NDScope.unregister(tables[i]);
    }
    cache.ropeTables(tables);
    return tables;
  }

  /** Rows {@code positions [B, T]} of {@code table [N, D]}: {@code [B, T, D]}. */
  private static NDArray lookup(NDArray positions, NDArray table) {
    return positions
        .getNDArrayInternal()
        .embedding(positions, table, SparseFormat.DENSE)
        .singletonOrThrow();
  }

  NDArray positions(DecoderInput in, NDManager m, int past, int total) {
    if (in.positionIds() != null) {
      return in.positionIds();
    }
    if (in.attentionMask() != null) {
      NDArray cum = in.attentionMask().toType(DataType.INT64, false).cumSum(1).sub(1).maximum(0);
      return past == 0 ? cum : cum.get(":, {}:", past);
    }
    return m.arange(past, total, 1, DataType.INT64).expandDims(0).repeat(0, in.batchSize());
  }

  /**
   * {@code [B|1, 1, 1, T, S]} float32: 0 where a query may attend to a key, {@link #MASKED}
   * elsewhere; null when nothing is masked (one new position, no padding, no window reached).
   */
  NDArray additiveMask(DecoderInput in, NDManager m, int past, int total) {
    boolean windowReached = config.slidingWindow() > 0 && total > config.slidingWindow();
    if (total - past == 1
        && in.attentionMask() == null
        && in.attendMask() == null
        && !windowReached) {
      return null;
    }
    NDArray query = m.arange(past, total, 1, DataType.INT64).expandDims(1);
    NDArray key = m.arange(0, total, 1, DataType.INT64).expandDims(0);
    NDArray allowed = key.lte(query);
    if (config.slidingWindow() > 0) {
      allowed = allowed.logicalAnd(query.sub(key).lt(config.slidingWindow()));
    }
    allowed = allowed.expandDims(0);
    if (in.attentionMask() != null) {
      allowed = allowed.logicalAnd(in.attentionMask().neq(0).expandDims(1));
    }
    if (in.attendMask() != null) {
      NDArray extra = in.attendMask();
      if (extra.getShape().dimension() == 4) {
        extra = extra.squeeze(1);
      }
      allowed = allowed.logicalAnd(extra.neq(0));
    }
    return allowed.toType(DataType.FLOAT32, false).sub(1f).mul(-MASKED).expandDims(1).expandDims(1);
  }

  /**
   * One decoder layer; {@code rope} holds cos and sin for keys, then the scaled ones for queries.
   */
  private NDArray layer(
      int l,
      NDArray x,
      NDArray[] rope,
      NDArray mask,
      KvCache cache,
      int total,
      ProjectionDelta delta,
      boolean useFused,
      DecodeProfile.Recorder rec) {
    long t = rec == null ? 0 : System.nanoTime();
    LayerWeights w = layers[l];
    int batch = (int) x.getShape().get(0);
    int time = (int) x.getShape().get(1);
    int kvHeads = config.numKeyValueHeads();
    int groups = config.numAttentionHeads() / kvHeads;
    int headDim = config.headDim();

    NDArray h = rmsNorm(x, w.inputNorm());
    if (rec != null) {
      t = rec.lap(DecodeProfile.Category.NORM_ELEMENTWISE, t, 6);
    }
    NDArray q;
    NDArray k;
    NDArray v;
    if (useFused) {
      NDList qkv =
          Linear.linear(h, w.qkv(), w.qkvBias())
              .singletonOrThrow()
              .split(new long[] {qkvSplit[0], qkvSplit[1]}, 2);
      q = withDelta(qkv.get(0), h, l, Projection.Q_PROJ, delta);
      k = withDelta(qkv.get(1), h, l, Projection.K_PROJ, delta);
      v = withDelta(qkv.get(2), h, l, Projection.V_PROJ, delta);
    } else {
      q = project(h, l, Projection.Q_PROJ, w, delta);
      k = project(h, l, Projection.K_PROJ, w, delta);
      v = project(h, l, Projection.V_PROJ, w, delta);
    }
    if (rec != null) {
      t = rec.lap(DecodeProfile.Category.PROJECTIONS, t, useFused ? 2 : 3);
    }
    // Query heads of one KV group are stacked along time ([B, kvH, G*T, D]), so K/V are used as is
    // (no repeat_kv copy). With one new position the layouts need no transposes at all.
    boolean single = time == 1;
    if (single) {
      q = rotate(q.reshape(batch, kvHeads, groups, headDim), rope[2], rope[3]);
      k = rotate(k.reshape(batch, kvHeads, 1, headDim), rope[0], rope[1]);
      v = v.reshape(batch, kvHeads, 1, headDim);
    } else {
      q =
          rotate(
                  q.reshape(batch, time, kvHeads, groups, headDim).transpose(0, 2, 3, 1, 4),
                  rope[2],
                  rope[3])
              .reshape(batch, kvHeads, groups * time, headDim);
      k = rotate(k.reshape(batch, time, kvHeads, headDim).transpose(0, 2, 1, 3), rope[0], rope[1]);
      v = v.reshape(batch, time, kvHeads, headDim).transpose(0, 2, 1, 3);
    }
    if (rec != null) {
      t = rec.lap(DecodeProfile.Category.ROPE, t, 12);
    }
    NDArray keys = k;
    NDArray values = v;
    if (cache != null) {
      cache.write(l, k, v);
      keys = cache.keys(l, total);
      values = cache.values(l, total);
    }
    if (rec != null) {
      t = rec.lap(DecodeProfile.Category.KV_WRITE, t, 4);
    }
    NDArray scores = q.matMul(keys.transpose(0, 1, 3, 2));
    if (scores.getDataType() != DataType.FLOAT32) {
      scores = scores.toType(DataType.FLOAT32, false);
    }
    NDArray probs;
    if (single) {
      probs = (mask == null ? scores : scores.add(mask)).softmax(3);
    } else {
      probs =
          scores
              .reshape(batch, kvHeads, groups, time, total)
              .add(mask)
              .softmax(4)
              .reshape(batch, kvHeads, groups * time, total);
    }
    if (dtype != DataType.FLOAT32) {
      probs = probs.toType(dtype, false);
    }
    NDArray attended = probs.matMul(values);
    attended =
        single
            ? attended.reshape(batch, 1, (long) kvHeads * groups * headDim)
            : attended
                .reshape(batch, kvHeads, groups, time, headDim)
                .transpose(0, 3, 1, 2, 4)
                .reshape(batch, time, (long) kvHeads * groups * headDim);
    if (rec != null) {
      t = rec.lap(DecodeProfile.Category.ATTENTION, t, 6 + (mask == null ? 0 : 1));
    }
    NDArray o = project(attended, l, Projection.O_PROJ, w, delta);
    if (rec != null) {
      t = rec.lap(DecodeProfile.Category.PROJECTIONS, t, 1);
    }
    NDArray afterAttention = x.add(o);
    NDArray h2 = rmsNorm(afterAttention, w.postNorm());
    if (rec != null) {
      t = rec.lap(DecodeProfile.Category.NORM_ELEMENTWISE, t, 7);
    }
    NDArray gate;
    NDArray up;
    if (useFused) {
      NDList gateUp =
          Linear.linear(h2, w.gateUp(), null)
              .singletonOrThrow()
              .split(new long[] {config.intermediateSize()}, 2);
      gate = withDelta(gateUp.get(0), h2, l, Projection.GATE_PROJ, delta);
      up = withDelta(gateUp.get(1), h2, l, Projection.UP_PROJ, delta);
    } else {
      gate = project(h2, l, Projection.GATE_PROJ, w, delta);
      up = project(h2, l, Projection.UP_PROJ, w, delta);
    }
    if (rec != null) {
      t = rec.lap(DecodeProfile.Category.PROJECTIONS, t, 2);
    }
    NDArray act = gate.mul(Activation.sigmoid(gate)).mul(up);
    if (rec != null) {
      t = rec.lap(DecodeProfile.Category.NORM_ELEMENTWISE, t, 3);
    }
    NDArray down = project(act, l, Projection.DOWN_PROJ, w, delta);
    if (rec != null) {
      t = rec.lap(DecodeProfile.Category.PROJECTIONS, t, 1);
    }
    NDArray out = afterAttention.add(down);
    if (rec != null) {
      rec.lap(DecodeProfile.Category.NORM_ELEMENTWISE, t, 1);
    }
    return out;
  }

  private NDArray project(
      NDArray x, int layer, Projection p, LayerWeights w, ProjectionDelta delta) {
    NDArray y = Linear.linear(x, w.weight()[p.ordinal()], w.bias()[p.ordinal()]).singletonOrThrow();
    return withDelta(y, x, layer, p, delta);
  }

  /** {@code y}, the base output of projection {@code p} on {@code x}, plus the delta's part. */
  private static NDArray withDelta(
      NDArray y, NDArray x, int layer, Projection p, ProjectionDelta delta) {
    if (delta != null) {
      NDArray d = delta.delta(layer, p.moduleName(), x);
      if (d != null) {
        y = y.add(d);
      }
    }
    return y;
  }

  /** Hugging Face's rotate_half convention: {@code x * cos + rotate_half(x) * sin}. */
  private NDArray rotate(NDArray x, NDArray cos, NDArray sin) {
    return x.mul(cos).add(x.matMul(rotation).mul(sin));
  }

  private NDArray rmsNorm(NDArray x, NDArray weight) {
    NDArray xf = x.getDataType() == DataType.FLOAT32 ? x : x.toType(DataType.FLOAT32, false);
    int last = xf.getShape().dimension() - 1;
    NDArray variance = xf.square().mean(new int[] {last}, true);
    // Not pow(-0.5f): DJL runs a scalar op against a Java-backed scalar it frees at once, and pow's
    // backward reads that scalar after a GC may have reused its memory (NaN gradients). sqrt and
    // div
    // save only libtorch-owned tensors.
    NDArray normed = xf.div(variance.add((float) config.rmsNormEps()).sqrt());
    if (dtype != DataType.FLOAT32) {
      normed = normed.toType(dtype, false);
    }
    return normed.mul(weight);
  }

  @Override
  public void close() {
    manager.close();
  }
}
