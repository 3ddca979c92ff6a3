package dev.editforge.lora;

/**
 * How {@link LoraTrainer} trains. Defaults ({@link #defaults()}) are Hugging Face Trainer's, which
 * SEAL's inner loop uses: AdamW (0.9, 0.999, 1e-8, weight decay 0), linear decay without warmup,
 * gradient clipping at norm 1.0.
 *
 * @param epochs passes over each adapter's samples (ignored when {@code maxSteps > 0})
 * @param maxSteps optimizer steps per adapter; 0 = {@code epochs} passes
 * @param batchSize samples per micro-batch of one adapter
 * @param gradientAccumulation micro-batches per optimizer step (an epoch's last step may have
 *     fewer)
 * @param maxLength samples are cut to this many tokens (from the right)
 * @param padTo LONGEST: pad each batch to its longest sample; MAX_LENGTH: pad every sample to
 *     {@code maxLength} (what SEAL's tokenization does)
 * @param padLabels true: padding positions are labels too (predict the pad token: SEAL's "labels =
 *     input_ids" with pad = eos); false: padding is masked (-100)
 * @param warmupSteps linear warm-up steps; when 0, {@code warmupRatio} of the total steps
 * @param maxGradNorm clip each adapter's gradient to this L2 norm; 0 = no clipping
 * @param shuffle reshuffle each adapter's samples every epoch (seeded)
 */
public record TrainSettings(
    int epochs,
    int maxSteps,
    double learningRate,
    double beta1,
    double beta2,
    double epsilon,
    double weightDecay,
    Schedule schedule,
    int warmupSteps,
    double warmupRatio,
    double maxGradNorm,
    int batchSize,
    int gradientAccumulation,
    int maxLength,
    PadTo padTo,
    boolean padLabels,
    boolean shuffle) {

  public enum Schedule {
    LINEAR,
    COSINE,
    CONSTANT
  }

  public enum PadTo {
    LONGEST,
    MAX_LENGTH
  }

  public TrainSettings {
    if (epochs < 1 && maxSteps < 1) {
      throw new IllegalArgumentException("set epochs >= 1 or maxSteps >= 1");
    }
    if (!(learningRate > 0)) {
      throw new IllegalArgumentException("learning rate must be > 0");
    }
    if (batchSize < 1 || gradientAccumulation < 1 || maxLength < 2) {
      throw new IllegalArgumentException(
          "batchSize and gradientAccumulation must be >= 1, maxLength >= 2");
    }
  }

  /**
   * Hugging Face Trainer's defaults with SEAL's inner-loop values (10 epochs, lr 1e-3, batch 1,
   * 2048 tokens).
   */
  public static TrainSettings defaults() {
    return new TrainSettings(
        10,
        0,
        1e-3,
        0.9,
        0.999,
        1e-8,
        0.0,
        Schedule.LINEAR,
        0,
        0.0,
        1.0,
        1,
        1,
        2048,
        PadTo.LONGEST,
        false,
        true);
  }

  public TrainSettings withEpochs(int n) {
    return new TrainSettings(
        n,
        maxSteps,
        learningRate,
        beta1,
        beta2,
        epsilon,
        weightDecay,
        schedule,
        warmupSteps,
        warmupRatio,
        maxGradNorm,
        batchSize,
        gradientAccumulation,
        maxLength,
        padTo,
        padLabels,
        shuffle);
  }

  public TrainSettings withLearningRate(double lr) {
    return new TrainSettings(
        epochs,
        maxSteps,
        lr,
        beta1,
        beta2,
        epsilon,
        weightDecay,
        schedule,
        warmupSteps,
        warmupRatio,
        maxGradNorm,
        batchSize,
        gradientAccumulation,
        maxLength,
        padTo,
        padLabels,
        shuffle);
  }

  public TrainSettings withBatching(int batch, int accumulation) {
    return new TrainSettings(
        epochs,
        maxSteps,
        learningRate,
        beta1,
        beta2,
        epsilon,
        weightDecay,
        schedule,
        warmupSteps,
        warmupRatio,
        maxGradNorm,
        batch,
        accumulation,
        maxLength,
        padTo,
        padLabels,
        shuffle);
  }

  public TrainSettings withSchedule(Schedule s, int warmup) {
    return new TrainSettings(
        epochs,
        maxSteps,
        learningRate,
        beta1,
        beta2,
        epsilon,
        weightDecay,
        s,
        warmup,
        warmupRatio,
        maxGradNorm,
        batchSize,
        gradientAccumulation,
        maxLength,
        padTo,
        padLabels,
        shuffle);
  }

  public TrainSettings withPadding(int length, PadTo pad, boolean labelsOnPadding) {
    return new TrainSettings(
        epochs,
        maxSteps,
        learningRate,
        beta1,
        beta2,
        epsilon,
        weightDecay,
        schedule,
        warmupSteps,
        warmupRatio,
        maxGradNorm,
        batchSize,
        gradientAccumulation,
        length,
        pad,
        labelsOnPadding,
        shuffle);
  }

  public TrainSettings withOptimizer(double b1, double b2, double eps, double decay, double clip) {
    return new TrainSettings(
        epochs,
        maxSteps,
        learningRate,
        b1,
        b2,
        eps,
        decay,
        schedule,
        warmupSteps,
        warmupRatio,
        clip,
        batchSize,
        gradientAccumulation,
        maxLength,
        padTo,
        padLabels,
        shuffle);
  }

  public TrainSettings withMaxSteps(int steps) {
    return new TrainSettings(
        epochs,
        steps,
        learningRate,
        beta1,
        beta2,
        epsilon,
        weightDecay,
        schedule,
        warmupSteps,
        warmupRatio,
        maxGradNorm,
        batchSize,
        gradientAccumulation,
        maxLength,
        padTo,
        padLabels,
        shuffle);
  }

  /** Optimizer steps for an adapter with {@code samples} samples. */
  public int totalSteps(int samples) {
    if (maxSteps > 0) {
      return maxSteps;
    }
    int micro = (samples + batchSize - 1) / batchSize;
    return epochs * ((micro + gradientAccumulation - 1) / gradientAccumulation);
  }

  public int warmup(int total) {
    return warmupSteps > 0 ? warmupSteps : (int) Math.ceil(warmupRatio * total);
  }

  /**
   * The learning rate of optimizer step {@code step} (0-based) out of {@code total}, as
   * transformers' schedulers compute it: linear warm-up from 0, then linear decay to 0, cosine
   * decay to 0, or constant.
   */
  public double learningRateAt(int step, int total) {
    int warm = warmup(total);
    if (step < warm) {
      return learningRate * step / Math.max(1, warm);
    }
    double rest = Math.max(1, total - warm);
    return switch (schedule) {
      case LINEAR -> learningRate * Math.max(0.0, (total - step) / rest);
      case COSINE ->
          learningRate * Math.max(0.0, 0.5 * (1 + Math.cos(Math.PI * (step - warm) / rest)));
      case CONSTANT -> learningRate;
    };
  }
}
