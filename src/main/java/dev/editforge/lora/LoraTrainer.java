package dev.editforge.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.editforge.llm.DecoderInput;
import dev.editforge.llm.DecoderModel;
import dev.editforge.llm.ProjectionDelta;
import dev.editforge.llm.SafetensorsDType;
import dev.editforge.llm.SafetensorsFile;
import dev.editforge.llm.SafetensorsWriter;
import dev.editforge.text.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.SplittableRandom;

/**
 * Trains the {@code N} adapters of a {@link LoraStack} at once over one frozen base model: each
 * global step runs one batched forward/backward in which every unfinished adapter contributes its
 * own next micro-batch (its rows use its own factors), then an AdamW update with per-adapter step
 * counts, learning rates, bias corrections and gradient clipping. Adapters are independent: one
 * trained with others equals it trained alone on the same samples and seed, up to float rounding of
 * the batched matmuls. With {@code N = 1} this is an ordinary LoRA trainer (the finetune stage uses
 * it so).
 *
 * <p>Semantics (Hugging Face Trainer's, the one SEAL's inner loop runs): samples are cut to {@code
 * maxLength}; each epoch visits an adapter's samples in a seeded shuffled order, {@code batchSize}
 * per micro-batch, {@code gradientAccumulation} micro-batches per optimizer step; the loss of a
 * step is the mean token cross-entropy over all label tokens of its micro-batches (the logits at t
 * scored against label t+1, label -100 ignored); gradients are clipped to {@code maxGradNorm} per
 * adapter; AdamW decouples weight decay ({@code p -= lr * wd * p}); the learning rate follows
 * {@link TrainSettings#learningRateAt}. Training batches use explicit positions (0, 1, ... or each
 * sample's own) and right padding.
 *
 * <p>Randomness (data order, dropout) derives statelessly from (adapter seed, epoch or step), so a
 * {@link #saveCheckpoint checkpoint} of factors, AdamW moments, steps and seeds resumes exactly.
 *
 * <p>Autograd is per thread ({@link Autograd}): trainers on different threads run their
 * forward/backward passes in parallel over one shared model (its weights never require gradients;
 * each trainer has its own stack). A trainer itself is not thread-safe; the creator closes it (the
 * stack stays open, owned by its creator).
 */
public final class LoraTrainer implements AutoCloseable {
  private final DecoderModel model;
  private final LoraStack stack;
  private final List<List<TrainSample>> data;
  private final TrainSettings settings;
  private final long[] seeds;
  private final int padId;
  private final Runnable beforeBackward;
  private final int[] steps;
  private final int[] totals;
  private final List<List<int[][]>> plans = new ArrayList<>();
  private final NDManager stateManager;
  private final NDArray[] m;
  private final NDArray[] v;
  private final double[] firstLoss;
  private final double[] lastLoss;
  private final long[] tokens;
  private double flops;

  /** Per-adapter results so far. */
  public record Report(int[] steps, double[] firstLoss, double[] lastLoss, long[] labelTokens) {}

  /**
   * @param data one list of samples per adapter of {@code stack}
   * @param seeds one seed per adapter (data order and dropout)
   * @param padId the token that pads rows (and is the label of padding with {@code padLabels})
   */
  public LoraTrainer(
      DecoderModel model,
      LoraStack stack,
      List<List<TrainSample>> data,
      TrainSettings settings,
      long[] seeds,
      int padId) {
    this(model, stack, data, settings, seeds, padId, null);
  }

  /**
   * As above, running {@code beforeBackward} (if not null) between every forward and backward: a
   * test passes {@code System::gc} so that any tensor autograd saved over Java memory that was
   * already released shows up as NaN or drift.
   */
  public LoraTrainer(
      DecoderModel model,
      LoraStack stack,
      List<List<TrainSample>> data,
      TrainSettings settings,
      long[] seeds,
      int padId,
      Runnable beforeBackward) {
    if (data.size() != stack.size() || seeds.length != stack.size()) {
      throw new IllegalArgumentException(
          "need one sample list and one seed per adapter: stack has "
              + stack.size()
              + ", got "
              + data.size()
              + " lists and "
              + seeds.length
              + " seeds");
    }
    this.model = model;
    this.stack = stack;
    this.data = List.copyOf(data);
    this.settings = settings;
    this.seeds = seeds.clone();
    this.padId = padId;
    this.beforeBackward = beforeBackward;
    int n = stack.size();
    steps = new int[n];
    totals = new int[n];
    firstLoss = new double[n];
    lastLoss = new double[n];
    Arrays.fill(firstLoss, Double.NaN);
    Arrays.fill(lastLoss, Double.NaN);
    tokens = new long[n];
    for (int k = 0; k < n; k++) {
      if (data.get(k).isEmpty()) {
        throw new IllegalArgumentException("adapter " + k + " has no training samples");
      }
      totals[k] = settings.totalSteps(data.get(k).size());
      plans.add(plan(k));
    }
    stack.requireGradients(true);
    stateManager = NDManager.newBaseManager(model.device(), "PyTorch");
    List<NDArray> params = stack.parameters();
    m = new NDArray[params.size()];
    v = new NDArray[params.size()];
    for (int i = 0; i < params.size(); i++) {
      m[i] = stateManager.zeros(params.get(i).getShape(), DataType.FLOAT32);
      v[i] = stateManager.zeros(params.get(i).getShape(), DataType.FLOAT32);
    }
  }

  /** Each optimizer step's micro-batches of sample indices, for adapter {@code k}. */
  private List<int[][]> plan(int k) {
    int samples = data.get(k).size();
    List<int[][]> updates = new ArrayList<>();
    for (int epoch = 0; updates.size() < totals[k]; epoch++) {
      int[] order = new int[samples];
      for (int i = 0; i < samples; i++) {
        order[i] = i;
      }
      if (settings.shuffle()) {
        SplittableRandom rng = new SplittableRandom(Seeds.mix(seeds[k], 2, epoch));
        for (int i = samples - 1; i > 0; i--) {
          int j = rng.nextInt(i + 1);
          int t = order[i];
          order[i] = order[j];
          order[j] = t;
        }
      }
      List<int[]> micro = new ArrayList<>();
      for (int i = 0; i < samples; i += settings.batchSize()) {
        micro.add(Arrays.copyOfRange(order, i, Math.min(samples, i + settings.batchSize())));
      }
      for (int i = 0;
          i < micro.size() && updates.size() < totals[k];
          i += settings.gradientAccumulation()) {
        updates.add(
            micro
                .subList(i, Math.min(micro.size(), i + settings.gradientAccumulation()))
                .toArray(int[][]::new));
      }
    }
    return updates;
  }

  public int size() {
    return stack.size();
  }

  /** Optimizer steps adapter {@code k} takes in all. */
  public int totalSteps(int k) {
    return totals[k];
  }

  public int stepsDone(int k) {
    return steps[k];
  }

  public boolean done() {
    for (int k = 0; k < steps.length; k++) {
      if (steps[k] < totals[k]) {
        return false;
      }
    }
    return true;
  }

  /** Trains until every adapter has taken all its steps. */
  public Report train() {
    while (step()) {
      // keep going
    }
    return report();
  }

  public Report report() {
    return new Report(steps.clone(), firstLoss.clone(), lastLoss.clone(), tokens.clone());
  }

  /** A padded row of one adapter's micro-batch. */
  private record Row(int[] ids, int[] labels, int[] positions, int[] segments, int real) {}

  /**
   * One optimizer step for every adapter that has steps left (they advance together; an adapter
   * that has finished sits out). Returns false when there was nothing left to do.
   */
  public boolean step() {
    List<Integer> active = new ArrayList<>();
    int maxMicro = 0;
    for (int k = 0; k < steps.length; k++) {
      if (steps[k] < totals[k]) {
        active.add(k);
        maxMicro = Math.max(maxMicro, plans.get(k).get(steps[k]).length);
      }
    }
    if (active.isEmpty()) {
      return false;
    }
    // Rows of every micro-batch of this step, and each adapter's label-token count over the step.
    int bs = settings.batchSize();
    List<List<Row[]>> rowsByMicro = new ArrayList<>();
    List<List<Integer>> adaptersByMicro = new ArrayList<>();
    double[] denominators = new double[steps.length];
    for (int j = 0; j < maxMicro; j++) {
      List<Row[]> groups = new ArrayList<>();
      List<Integer> who = new ArrayList<>();
      for (int k : active) {
        int[][] update = plans.get(k).get(steps[k]);
        if (update.length <= j) {
          continue;
        }
        Row[] rows = rows(k, update[j], bs);
        for (Row r : rows) {
          for (int t = 1; t < r.labels().length; t++) {
            if (r.labels()[t] != TrainSample.IGNORE) {
              denominators[k]++;
            }
          }
        }
        groups.add(rows);
        who.add(k);
      }
      rowsByMicro.add(groups);
      adaptersByMicro.add(who);
    }
    double[] lossSums = new double[steps.length];
    for (int j = 0; j < maxMicro; j++) {
      forwardBackward(rowsByMicro.get(j), adaptersByMicro.get(j), denominators, lossSums, j);
    }
    update(active);
    for (int k : active) {
      double loss = denominators[k] > 0 ? lossSums[k] / denominators[k] : 0.0;
      if (steps[k] == 0) {
        firstLoss[k] = loss;
      }
      lastLoss[k] = loss;
      tokens[k] += (long) denominators[k];
      steps[k]++;
    }
    return true;
  }

  /**
   * The rows of adapter {@code k}'s micro-batch {@code samples}, padded to its own length, plus
   * dummy rows up to {@code bs}.
   */
  private Row[] rows(int k, int[] samples, int bs) {
    int own = 0;
    List<TrainSample> list = data.get(k);
    for (int s : samples) {
      own = Math.max(own, Math.min(settings.maxLength(), list.get(s).length()));
    }
    if (settings.padTo() == TrainSettings.PadTo.MAX_LENGTH) {
      own = settings.maxLength();
    }
    Row[] out = new Row[bs];
    for (int i = 0; i < bs; i++) {
      int[] ids = new int[own];
      int[] labels = new int[own];
      int[] pos = new int[own];
      int[] seg = null;
      Arrays.fill(ids, padId);
      Arrays.fill(labels, TrainSample.IGNORE);
      for (int t = 0; t < own; t++) {
        pos[t] = t;
      }
      int real = 0;
      if (i < samples.length) {
        TrainSample s = list.get(samples[i]);
        real = Math.min(own, s.length());
        System.arraycopy(s.inputIds(), 0, ids, 0, real);
        System.arraycopy(s.labels(), 0, labels, 0, real);
        if (s.positionIds() != null) {
          System.arraycopy(s.positionIds(), 0, pos, 0, real);
        }
        if (s.segmentIds() != null) {
          seg = new int[own];
          Arrays.fill(seg, -1);
          System.arraycopy(s.segmentIds(), 0, seg, 0, real);
        }
        if (settings.padLabels()) {
          Arrays.fill(labels, real, own, padId);
        }
      }
      out[i] = new Row(ids, labels, pos, seg, real);
    }
    return out;
  }

  /**
   * One micro-batch of every participating adapter. Adapters' rows are sorted by length and cut
   * into buckets whose lengths differ by at most half, each its own forward/backward (gradients add
   * up in the factors' .grad, and each adapter's loss is normalized by its own token count either
   * way), so one long sequence does not make every other adapter's row pad to its length.
   */
  private void forwardBackward(
      List<Row[]> groups, List<Integer> who, double[] denominators, double[] lossSums, int micro) {
    int n = groups.size();
    Integer[] order = new Integer[n];
    int[] length = new int[n];
    for (int i = 0; i < n; i++) {
      order[i] = i;
      for (Row r : groups.get(i)) {
        length[i] = Math.max(length[i], r.ids().length);
      }
    }
    Arrays.sort(order, (x, y) -> Integer.compare(length[x], length[y]));
    int start = 0;
    while (start < n) {
      int end = start + 1;
      while (end < n && length[order[end]] <= 1.5 * length[order[start]]) {
        end++;
      }
      List<Row[]> bucket = new ArrayList<>();
      List<Integer> bucketWho = new ArrayList<>();
      for (int i = start; i < end; i++) {
        bucket.add(groups.get(order[i]));
        bucketWho.add(who.get(order[i]));
      }
      forwardBackwardBucket(bucket, bucketWho, denominators, lossSums, micro);
      start = end;
    }
  }

  private void forwardBackwardBucket(
      List<Row[]> groups, List<Integer> who, double[] denominators, double[] lossSums, int micro) {
    int g = groups.size();
    int bs = settings.batchSize();
    int rows = g * bs;
    int len = 0;
    boolean packed = false;
    for (Row[] group : groups) {
      for (Row r : group) {
        len = Math.max(len, r.ids().length);
        packed |= r.segments() != null;
      }
    }
    long[] ids = new long[rows * len];
    long[] labels = new long[rows * len];
    long[] mask = new long[rows * len];
    long[] pos = new long[rows * len];
    Arrays.fill(ids, padId);
    Arrays.fill(labels, TrainSample.IGNORE);
    int[] groupAdapters = new int[g];
    float[] denom = new float[g];
    for (int gi = 0; gi < g; gi++) {
      groupAdapters[gi] = who.get(gi);
      denom[gi] = (float) Math.max(1.0, denominators[who.get(gi)]);
      for (int i = 0; i < bs; i++) {
        Row r = groups.get(gi)[i];
        int base = (gi * bs + i) * len;
        for (int t = 0; t < len; t++) {
          if (t < r.ids().length) {
            ids[base + t] = r.ids()[t];
            labels[base + t] = r.labels()[t];
            pos[base + t] = r.positions()[t];
          } else {
            pos[base + t] = t;
          }
          mask[base + t] = t < r.real() ? 1 : 0;
        }
      }
    }
    // Packed rows: each token's segment (0 past a row's own length or without segments); the
    // attention mask is built from it by libtorch, not as a rows x len x len Java array.
    long[] segments = null;
    if (packed) {
      segments = new long[rows * len];
      for (int gi = 0; gi < g; gi++) {
        for (int i = 0; i < bs; i++) {
          int[] seg = groups.get(gi)[i].segments();
          if (seg != null) {
            int base = (gi * bs + i) * len;
            for (int t = 0; t < Math.min(len, seg.length); t++) {
              segments[base + t] = seg[t];
            }
          }
        }
      }
    }
    for (Row[] group : groups) {
      for (Row r : group) {
        if (r.real() > 0) {
          flops += TrainFlops.sequence(model.config(), stack.config(), r.real());
        }
      }
    }
    try (NDManager mm = NDManager.newBaseManager(model.device(), "PyTorch")) {
      Shape shape = new Shape(rows, len);
      NDArray in = mm.create(ids, shape);
      NDArray am = mm.create(mask, shape);
      NDArray ps = mm.create(pos, shape);
      NDArray lb = mm.create(labels, shape);
      NDArray at = segments == null ? null : packedAttention(mm, segments, rows, len);
      NDArray dn = mm.create(denom);
      LoraStack.DropoutMasks dropout =
          stack.config().dropout() > 0 ? dropoutMasks(groupAdapters, micro) : null;
      ProjectionDelta delta = stack.delta(mm, groupAdapters, bs, dropout);
      float[] perGroup;
      try (Autograd.Recording recording = Autograd.record()) {
        NDArray logits = model.forward(new DecoderInput(in, am, ps, at, null, delta, false));
        NDArray logProbs = logits.get(":, :-1, :").logSoftmax(2);
        NDArray target = lb.get(":, 1:");
        NDArray valid = target.neq(TrainSample.IGNORE).toType(DataType.FLOAT32, false);
        NDArray picked = logProbs.gather(target.maximum(0).expandDims(2), 2).squeeze(2);
        NDArray groupLoss =
            picked.mul(valid).sum(new int[] {1}).neg().reshape(g, bs).sum(new int[] {1});
        NDArray loss = groupLoss.div(dn).sum();
        if (beforeBackward != null) {
          beforeBackward.run();
        }
        Autograd.backward(loss);
        perGroup = groupLoss.toFloatArray();
      }
      for (int gi = 0; gi < g; gi++) {
        lossSums[who.get(gi)] += perGroup[gi];
      }
    }
  }

  /**
   * {@code [rows, len, len]}: query q may attend to key k when k <= q and both are in the same
   * segment.
   */
  private static NDArray packedAttention(NDManager mm, long[] segments, int rows, int len) {
    NDArray seg = mm.create(segments, new Shape(rows, len));
    NDArray sameSegment = seg.expandDims(2).eq(seg.expandDims(1));
    NDArray t = mm.arange(0, len, 1, DataType.INT64);
    NDArray causal = t.expandDims(1).gte(t.expandDims(0));
    return sameSegment.logicalAnd(causal.expandDims(0));
  }

  /**
   * Dropout keep-masks scaled by 1/(1-p), drawn from (adapter seed, step, micro-batch, row,
   * target).
   */
  private LoraStack.DropoutMasks dropoutMasks(int[] groupAdapters, int micro) {
    double p = stack.config().dropout();
    float keep = (float) (1.0 / (1.0 - p));
    return (mgr, group, rowsPerGroup, time, target) -> {
      int k = groupAdapters[group];
      float[] mask = new float[rowsPerGroup * time * target.in()];
      for (int r = 0; r < rowsPerGroup; r++) {
        SplittableRandom rng =
            new SplittableRandom(
                Seeds.mix(
                    seeds[k],
                    3,
                    steps[k],
                    micro,
                    r,
                    target.layer(),
                    target.projection().ordinal()));
        int off = r * time * target.in();
        for (int i = 0; i < time * target.in(); i++) {
          mask[off + i] = rng.nextDouble() < p ? 0f : keep;
        }
      }
      return Tensors.owned(mgr, mask, new Shape((long) rowsPerGroup * time, target.in()));
    };
  }

  /** Per-adapter clipping and AdamW on the stacked factors, then zeroed gradients. */
  private void update(List<Integer> active) {
    // libtorch's grad mode is per thread and on by default; DJL turns it off only on the thread
    // that loaded the engine. The in-place AdamW step below must not be recorded, whichever
    // (Spark task) thread runs it.
    JniUtils.setGradMode(false);
    int n = steps.length;
    List<NDArray> params = stack.parameters();
    try (NDScope scope = new NDScope()) {
      NDArray[] grads = new NDArray[params.size()];
      double[] sq = new double[n];
      for (int i = 0; i < params.size(); i++) {
        grads[i] = params.get(i).getGradient();
        float[] s = grads[i].square().sum(new int[] {1, 2}).toFloatArray();
        for (int k = 0; k < n; k++) {
          sq[k] += s[k];
        }
      }
      float[] clip = new float[n];
      float[] decay = new float[n];
      float[] c1 = new float[n];
      float[] c2 = new float[n];
      float[] stepSize = new float[n];
      float[] invBc2 = new float[n];
      Arrays.fill(clip, 1f);
      Arrays.fill(decay, 1f);
      Arrays.fill(invBc2, 1f);
      for (int k : active) {
        double norm = Math.sqrt(sq[k]);
        if (settings.maxGradNorm() > 0) {
          clip[k] = (float) Math.min(1.0, settings.maxGradNorm() / (norm + 1e-6));
        }
        double lr = settings.learningRateAt(steps[k], totals[k]);
        int t = steps[k] + 1;
        decay[k] = (float) (1.0 - lr * settings.weightDecay());
        c1[k] = (float) (1.0 - settings.beta1());
        c2[k] = (float) (1.0 - settings.beta2());
        stepSize[k] = (float) (lr / (1.0 - Math.pow(settings.beta1(), t)));
        invBc2[k] = (float) (1.0 / Math.sqrt(1.0 - Math.pow(settings.beta2(), t)));
      }
      NDManager mgr = m[0].getManager();
      Shape col = new Shape(n, 1, 1);
      NDArray clipA = mgr.create(clip, col);
      NDArray decayA = mgr.create(decay, col);
      NDArray c1A = mgr.create(c1, col);
      NDArray c2A = mgr.create(c2, col);
      NDArray stepA = mgr.create(stepSize, col);
      NDArray bc2A = mgr.create(invBc2, col);
      float eps = (float) settings.epsilon();
      for (int i = 0; i < params.size(); i++) {
        NDArray p = params.get(i);
        NDArray grad = grads[i].mul(clipA);
        m[i].addi(grad.sub(m[i]).mul(c1A));
        v[i].addi(grad.square().sub(v[i]).mul(c2A));
        NDArray denom = v[i].sqrt().mul(bc2A).add(eps);
        p.muli(decayA);
        p.subi(m[i].div(denom).mul(stepA));
        grads[i].subi(grads[i]);
      }
    }
  }

  // ---------------------------------------------------------------- checkpoints

  /**
   * Writes everything needed to resume exactly: {@code adapter-<k>/} (PEFT format) per adapter,
   * {@code optimizer.safetensors} (AdamW moments, stacked) and {@code trainer_state.json} (steps,
   * totals, seeds).
   */
  public void saveCheckpoint(Path dir, String baseModel) {
    try {
      Files.createDirectories(dir);
      for (int k = 0; k < stack.size(); k++) {
        PeftAdapters.save(dir.resolve("adapter-" + k), stack.adapter(k), baseModel);
      }
      SafetensorsWriter w = new SafetensorsWriter();
      for (int i = 0; i < m.length; i++) {
        w.add("exp_avg." + i, m[i], SafetensorsDType.F32);
        w.add("exp_avg_sq." + i, v[i], SafetensorsDType.F32);
      }
      w.write(dir.resolve("optimizer.safetensors"));
      ObjectMapper json = Json.COMPACT;
      ObjectNode state = json.createObjectNode();
      state.put("adapters", stack.size());
      ArrayNode st = state.putArray("steps");
      ArrayNode tt = state.putArray("total_steps");
      ArrayNode sd = state.putArray("seeds");
      for (int k = 0; k < stack.size(); k++) {
        st.add(steps[k]);
        tt.add(totals[k]);
        sd.add(seeds[k]);
      }
      state.put("pad_id", padId);
      json.writerWithDefaultPrettyPrinter()
          .writeValue(dir.resolve("trainer_state.json").toFile(), state);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Resumes a {@link #saveCheckpoint checkpoint}: loads its adapters into a new stack on the
   * model's device (owned by the caller, who closes it after the trainer) and its optimizer state,
   * seeds and steps. {@code data} and {@code settings} must be those of the original run.
   */
  public static LoraTrainer resume(
      DecoderModel model, Path dir, List<List<TrainSample>> data, TrainSettings settings) {
    try {
      JsonNode state = Json.COMPACT.readTree(dir.resolve("trainer_state.json").toFile());
      int n = state.get("adapters").asInt();
      List<LoraAdapter> adapters = new ArrayList<>();
      long[] seeds = new long[n];
      for (int k = 0; k < n; k++) {
        adapters.add(PeftAdapters.load(dir.resolve("adapter-" + k), model.config()));
        seeds[k] = state.get("seeds").get(k).asLong();
      }
      LoraStack stack = LoraStack.of(adapters, model.device());
      LoraTrainer trainer =
          new LoraTrainer(model, stack, data, settings, seeds, state.get("pad_id").asInt());
      for (int k = 0; k < n; k++) {
        trainer.steps[k] = state.get("steps").get(k).asInt();
        if (state.get("total_steps").get(k).asInt() != trainer.totals[k]) {
          throw new IllegalArgumentException(
              "checkpoint "
                  + dir
                  + " was made with other data or settings: adapter "
                  + k
                  + " had "
                  + state.get("total_steps").get(k).asInt()
                  + " total steps, now "
                  + trainer.totals[k]);
        }
      }
      try (SafetensorsFile f = SafetensorsFile.open(dir.resolve("optimizer.safetensors"))) {
        for (int i = 0; i < trainer.m.length; i++) {
          Shape shape = trainer.m[i].getShape();
          trainer.m[i].close();
          trainer.v[i].close();
          trainer.m[i] = Tensors.owned(trainer.stateManager, f.readFloats("exp_avg." + i), shape);
          trainer.v[i] =
              Tensors.owned(trainer.stateManager, f.readFloats("exp_avg_sq." + i), shape);
        }
      }
      return trainer;
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Training FLOPs done so far over the real (non-padding) tokens of every row ({@link
   * TrainFlops#sequence}).
   */
  public double flops() {
    return flops;
  }

  /** The stack being trained. */
  public LoraStack stack() {
    return stack;
  }

  @Override
  public void close() {
    stack.requireGradients(false);
    stateManager.close();
  }
}
