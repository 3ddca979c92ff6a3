package dev.editforge.finetune;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.editforge.llm.DecoderModel;
import dev.editforge.llm.SafetensorsDType;
import dev.editforge.llm.SafetensorsFile;
import dev.editforge.llm.SafetensorsWriter;
import dev.editforge.lora.Autograd;
import dev.editforge.lora.Batching;
import dev.editforge.lora.LoraMerge;
import dev.editforge.lora.Seeds;
import dev.editforge.lora.TrainSettings;
import dev.editforge.text.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * Full-parameter training: every weight of a {@link DecoderModel} (the tied embedding once) is
 * trained with AdamW, with the schedule, clipping, micro-batching and data order of {@link
 * dev.editforge.lora.LoraTrainer} (Hugging Face Trainer's semantics: the loss of a step is the mean
 * token cross-entropy over all label tokens of its micro-batches; AdamW decouples weight decay; the
 * global gradient norm is clipped).
 *
 * <p>The trainer takes the model over: its weights require gradients and are updated in place, so
 * the model must be a private instance loaded for training (float32), never one shared with
 * generation. Randomness (data order) derives from (seed, epoch) only, so a {@link #saveCheckpoint
 * checkpoint} (weights, both AdamW moments, step) resumes to exactly the weights of an
 * uninterrupted run.
 *
 * <p>Memory: weights, gradients and two moments are four float32 copies of the model ({@link
 * #stateBytes}). Not thread-safe; the creator closes it (the model stays open, owned by its
 * creator).
 */
public final class FullTrainer implements AutoCloseable {
  static final String WEIGHTS = "model";
  static final String OPTIMIZER = "optimizer.safetensors";
  static final String STATE = "trainer_state.json";

  private final DecoderModel model;
  private final List<Batching.Row> data;
  private final TrainSettings settings;
  private final long seed;
  private final int padId;
  private final List<String> names;
  private final List<NDArray> params;
  private final NDManager stateManager;
  private final NDArray[] m;
  private final NDArray[] v;
  private final List<int[][]> plan;
  private final int total;
  private int steps;
  private double lastLoss = Double.NaN;
  private long realTokens;
  private long paddedSlots;

  /**
   * @param data training rows (one {@link Batching} row per sample or pack)
   * @param padId the id that pads rows
   */
  public FullTrainer(
      DecoderModel model, List<Batching.Row> data, TrainSettings settings, long seed, int padId) {
    if (model.dtype() != DataType.FLOAT32) {
      throw new IllegalArgumentException(
          "full fine-tuning computes in float32; the model was loaded as " + model.dtype());
    }
    if (data.isEmpty()) {
      throw new IllegalArgumentException("no training rows");
    }
    this.model = model;
    this.data = List.copyOf(data);
    this.settings = settings;
    this.seed = seed;
    this.padId = padId;
    this.total = settings.totalSteps(data.size());
    this.plan = plan();
    names = new ArrayList<>(model.weights().keySet());
    params = new ArrayList<>();
    for (String n : names) {
      NDArray p = model.weights().get(n);
      p.setRequiresGradient(true);
      params.add(p);
    }
    stateManager = NDManager.newBaseManager(model.device(), "PyTorch");
    m = new NDArray[params.size()];
    v = new NDArray[params.size()];
    for (int i = 0; i < params.size(); i++) {
      m[i] = stateManager.zeros(params.get(i).getShape(), DataType.FLOAT32);
      v[i] = stateManager.zeros(params.get(i).getShape(), DataType.FLOAT32);
    }
  }

  /** Bytes of weights, gradients and both AdamW moments in float32: 16 per parameter. */
  public static long stateBytes(long parameters) {
    return parameters * 4L * Float.BYTES;
  }

  private List<int[][]> plan() {
    int samples = data.size();
    List<int[][]> updates = new ArrayList<>();
    for (int epoch = 0; updates.size() < total; epoch++) {
      int[] order = new int[samples];
      for (int i = 0; i < samples; i++) {
        order[i] = i;
      }
      if (settings.shuffle()) {
        SplittableRandom rng = new SplittableRandom(Seeds.mix(seed, 2, epoch));
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
          i < micro.size() && updates.size() < total;
          i += settings.gradientAccumulation()) {
        updates.add(
            micro
                .subList(i, Math.min(micro.size(), i + settings.gradientAccumulation()))
                .toArray(int[][]::new));
      }
    }
    return updates;
  }

  public int totalSteps() {
    return total;
  }

  public int stepsDone() {
    return steps;
  }

  /** The mean token loss of the last step (NaN before the first). */
  public double lastLoss() {
    return lastLoss;
  }

  /** Non-padding tokens the forwards so far have processed. */
  public long realTokens() {
    return realTokens;
  }

  /** Padding slots the forwards so far have computed for nothing. */
  public long paddingTokens() {
    return paddedSlots;
  }

  /** One optimizer step; false when all steps are done. */
  public boolean step() {
    if (steps >= total) {
      return false;
    }
    List<Batching.Batch> micro = new ArrayList<>();
    long denominator = 0;
    for (int[] samples : plan.get(steps)) {
      List<Batching.Row> rows = new ArrayList<>();
      for (int s : samples) {
        rows.add(data.get(s));
      }
      Batching.Batch b = Batching.batch(rows, padId);
      micro.add(b);
      denominator += b.lossTokens();
      realTokens += (long) b.rows() * b.time() - b.paddingTokens();
      paddedSlots += b.paddingTokens();
    }
    double lossSum = 0;
    for (Batching.Batch b : micro) {
      try (NDManager mm = NDManager.newBaseManager(model.device(), "PyTorch")) {
        NDArray denom = mm.create(new float[] {Math.max(1, denominator)});
        try (Autograd.Recording recording = Autograd.record()) {
          NDArray logits = model.forward(CausalLm.input(mm, b, null));
          NDArray tokenLoss = CausalLm.tokenLosses(logits, b).sum();
          Autograd.backward(tokenLoss.div(denom));
          lossSum += tokenLoss.getFloat();
        }
      }
    }
    update();
    lastLoss = denominator > 0 ? lossSum / denominator : 0.0;
    steps++;
    return true;
  }

  private void update() {
    // The in-place AdamW step must not be recorded, whichever (Spark task) thread runs it.
    JniUtils.setGradMode(false);
    try (NDScope scope = new NDScope()) {
      NDArray[] grads = new NDArray[params.size()];
      double sq = 0;
      for (int i = 0; i < params.size(); i++) {
        grads[i] = params.get(i).getGradient();
        sq += grads[i].square().sum().getFloat();
      }
      double clip = 1.0;
      if (settings.maxGradNorm() > 0) {
        clip = Math.min(1.0, settings.maxGradNorm() / (Math.sqrt(sq) + 1e-6));
      }
      double lr = settings.learningRateAt(steps, total);
      int t = steps + 1;
      float decay = (float) (1.0 - lr * settings.weightDecay());
      float c1 = (float) (1.0 - settings.beta1());
      float c2 = (float) (1.0 - settings.beta2());
      float stepSize = (float) (lr / (1.0 - Math.pow(settings.beta1(), t)));
      float invBc2 = (float) (1.0 / Math.sqrt(1.0 - Math.pow(settings.beta2(), t)));
      float eps = (float) settings.epsilon();
      for (int i = 0; i < params.size(); i++) {
        NDArray p = params.get(i);
        NDArray grad = grads[i].mul((float) clip);
        m[i].addi(grad.sub(m[i]).mul(c1));
        v[i].addi(grad.square().sub(v[i]).mul(c2));
        NDArray denom = v[i].sqrt().mul(invBc2).add(eps);
        p.muli(decay);
        p.subi(m[i].div(denom).mul(stepSize));
        grads[i].subi(grads[i]);
      }
    }
  }

  /**
   * Writes the trained model in Hugging Face layout into {@code out}: float32 weights (sharded
   * above {@code maxShardBytes}) and the base directory's config and tokenizer files.
   */
  public void saveModel(Path out, long maxShardBytes) {
    try {
      Files.createDirectories(out);
      for (String f : LoraMerge.SIDE_FILES) {
        Path src = model.directory().resolve(f);
        if (Files.exists(src)) {
          Files.copy(src, out.resolve(f), StandardCopyOption.REPLACE_EXISTING);
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    SafetensorsWriter w = new SafetensorsWriter();
    for (int i = 0; i < params.size(); i++) {
      w.add(names.get(i), params.get(i), SafetensorsDType.F32);
    }
    w.writeSharded(out, maxShardBytes);
  }

  /**
   * Writes everything needed to resume exactly: {@code model/} (the weights, Hugging Face layout),
   * {@code optimizer.safetensors} (both AdamW moments per weight) and {@code trainer_state.json}.
   */
  public void saveCheckpoint(Path dir) {
    try {
      Files.createDirectories(dir);
      saveModel(dir.resolve(WEIGHTS), LoraMerge.DEFAULT_MAX_SHARD_BYTES);
      SafetensorsWriter w = new SafetensorsWriter();
      for (int i = 0; i < params.size(); i++) {
        w.add("exp_avg." + names.get(i), m[i], SafetensorsDType.F32);
        w.add("exp_avg_sq." + names.get(i), v[i], SafetensorsDType.F32);
      }
      w.write(dir.resolve(OPTIMIZER));
      ObjectNode state = Json.COMPACT.createObjectNode();
      state.put("method", "full");
      state.put("steps", steps);
      state.put("total_steps", total);
      state.put("seed", seed);
      state.put("pad_id", padId);
      Json.COMPACT.writerWithDefaultPrettyPrinter().writeValue(dir.resolve(STATE).toFile(), state);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * Resumes a {@link #saveCheckpoint checkpoint} on {@code model} (the base model, loaded as for
   * the original run): its weights are overwritten with the checkpoint's, and steps and moments
   * restored. {@code data} and {@code settings} must be those of the original run.
   */
  public static FullTrainer resume(
      DecoderModel model, Path dir, List<Batching.Row> data, TrainSettings settings) {
    JsonNode state;
    try {
      state = Json.COMPACT.readTree(dir.resolve(STATE).toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    loadWeights(model, dir.resolve(WEIGHTS));
    FullTrainer t =
        new FullTrainer(
            model, data, settings, state.get("seed").asLong(), state.get("pad_id").asInt());
    if (state.get("total_steps").asInt() != t.total) {
      throw new IllegalArgumentException(
          "checkpoint "
              + dir
              + " was made with other data or settings: "
              + state.get("total_steps").asInt()
              + " total steps, now "
              + t.total);
    }
    t.steps = state.get("steps").asInt();
    try (SafetensorsFile f = SafetensorsFile.open(dir.resolve(OPTIMIZER))) {
      for (int i = 0; i < t.params.size(); i++) {
        copyInto(t.m[i], f.readFloats("exp_avg." + t.names.get(i)));
        copyInto(t.v[i], f.readFloats("exp_avg_sq." + t.names.get(i)));
      }
    }
    return t;
  }

  /** Overwrites {@code model}'s weights in place with those of the model directory {@code dir}. */
  static void loadWeights(DecoderModel model, Path dir) {
    try (dev.editforge.llm.SafetensorsCheckpoint ckpt =
        dev.editforge.llm.SafetensorsCheckpoint.open(dir)) {
      for (Map.Entry<String, NDArray> e : model.weights().entrySet()) {
        if (!ckpt.contains(e.getKey())) {
          throw new IllegalArgumentException(dir + " lacks weight " + e.getKey());
        }
        copyInto(e.getValue(), ckpt.readFloats(e.getKey()));
      }
    }
  }

  /** Copies {@code values} into {@code target}'s own (libtorch) memory, outside autograd. */
  private static void copyInto(NDArray target, float[] values) {
    JniUtils.setGradMode(false);
    try (NDManager tmp = target.getManager().newSubManager();
        NDArray src = tmp.create(values, target.getShape())) {
      target.subi(target);
      target.addi(src);
    }
  }

  /** Weight {@code name} as floats (tests compare runs with it). */
  public float[] weight(String name) {
    return model.weight(name).toFloatArray();
  }

  @Override
  public void close() {
    for (NDArray p : params) {
      p.setRequiresGradient(false);
    }
    stateManager.close();
  }
}
