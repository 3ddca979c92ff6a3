package dev.editforge.config;

import dev.editforge.llm.Projection;
import dev.editforge.lora.LoraConfig;
import dev.editforge.lora.TrainSettings;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code editforge.ttt}: how the score stage trains and evaluates one LoRA adapter per self-edit.
 * Defaults are SEAL's inner loop ({@code TTT_server.py} + Hugging Face Trainer defaults): LoRA r
 * 32, alpha 64, dropout 0 on q_proj/v_proj; 10 epochs, lr 1e-3, batch 1, AdamW (0.9, 0.999, 1e-8,
 * no weight decay), linear decay without warm-up, gradient clipping at 1.0; sequences padded to
 * 2048 tokens with the pad (= eos) positions kept as labels; greedy answers of at most 64 tokens; 3
 * evaluations per edit. See reference.conf for each key.
 */
public record TttSettings(
    int epochs,
    double learningRate,
    int batchSize,
    int gradientAccumulation,
    TrainSettings.Schedule schedule,
    int warmupSteps,
    double weightDecay,
    double adamBeta1,
    double adamBeta2,
    double adamEpsilon,
    double maxGradNorm,
    int maxLength,
    TrainSettings.PadTo padTo,
    boolean padLabels,
    String endMaskSubstring,
    boolean splitNewlines,
    LoraConfig lora,
    int maxNewTokens,
    int evalTimes,
    boolean trainOnce,
    boolean rejudgeBaseline,
    int adaptersPerBatch,
    int maxGenerationRows,
    long seed) {

  public TttSettings {
    endMaskSubstring = endMaskSubstring == null ? "" : endMaskSubstring;
  }

  /** SEAL's values (what reference.conf sets). */
  public static TttSettings seal() {
    return new TttSettings(
        10,
        1e-3,
        1,
        1,
        TrainSettings.Schedule.LINEAR,
        0,
        0.0,
        0.9,
        0.999,
        1e-8,
        1.0,
        2048,
        TrainSettings.PadTo.MAX_LENGTH,
        true,
        "",
        true,
        LoraConfig.seal(),
        64,
        3,
        false,
        false,
        8,
        256,
        42);
  }

  public static TttSettings from(ConfigReader r) {
    ConfigReader l = r.section("lora");
    List<String> targets = l.strings("targets");
    List<String> allowed = new ArrayList<>(Projection.moduleNames());
    allowed.add(LoraConfig.ALL_LINEAR);
    for (String t : targets) {
      if (!allowed.contains(t)) {
        throw new SettingsException(
            l.full("targets"), targets, "entries must be among " + String.join(", ", allowed));
      }
    }
    if (targets.isEmpty() || targets.contains(LoraConfig.ALL_LINEAR) && targets.size() > 1) {
      throw new SettingsException(
          l.full("targets"), targets, "must list at least one module, or be [all-linear] alone");
    }
    LoraConfig lora =
        new LoraConfig(
            l.integer("rank", 1, 4096),
            l.number("alpha", 1e-6, 1e6),
            l.number("dropout", 0.0, 0.99),
            targets);
    ConfigReader adam = r.section("adam");
    return new TttSettings(
        r.integer("epochs", 1, 10_000),
        r.number("lr", 1e-12, 10.0),
        r.integer("batch-size", 1, 4096),
        r.integer("gradient-accumulation", 1, 4096),
        r.enumValue("schedule", TrainSettings.Schedule.class),
        r.integer("warmup-steps", 0, 1_000_000),
        r.number("weight-decay", 0.0, 1.0),
        adam.number("beta1", 0.0, 0.999999),
        adam.number("beta2", 0.0, 0.999999999),
        adam.number("epsilon", 0.0, 1.0),
        r.number("max-grad-norm", 0.0, 1e9),
        r.integer("max-length", 2, 1 << 20),
        r.enumValue("pad-to", TrainSettings.PadTo.class),
        r.bool("pad-labels"),
        r.string("end-mask-substring"),
        r.bool("split-newlines"),
        lora,
        r.integer("max-new-tokens", 1, 1 << 16),
        r.integer("eval-times", 1, 1000),
        r.bool("train-once"),
        r.bool("rejudge-baseline"),
        r.integer("adapters-per-batch", 1, 4096),
        r.integer("max-generation-rows", 1, 1 << 20),
        r.longValue("seed", Long.MIN_VALUE, Long.MAX_VALUE));
  }

  /**
   * The trainer's settings for one adapter (data order reshuffled each epoch, as HF's sampler
   * does).
   */
  public TrainSettings train() {
    return new TrainSettings(
        epochs,
        0,
        learningRate,
        adamBeta1,
        adamBeta2,
        adamEpsilon,
        weightDecay,
        schedule,
        warmupSteps,
        0.0,
        maxGradNorm,
        batchSize,
        gradientAccumulation,
        maxLength,
        padTo,
        padLabels,
        true);
  }

  public TttSettings withTraining(
      int newEpochs, double lr, int newMaxLength, TrainSettings.PadTo pad, boolean labels) {
    return new TttSettings(
        newEpochs,
        lr,
        batchSize,
        gradientAccumulation,
        schedule,
        warmupSteps,
        weightDecay,
        adamBeta1,
        adamBeta2,
        adamEpsilon,
        maxGradNorm,
        newMaxLength,
        pad,
        labels,
        endMaskSubstring,
        splitNewlines,
        lora,
        maxNewTokens,
        evalTimes,
        trainOnce,
        rejudgeBaseline,
        adaptersPerBatch,
        maxGenerationRows,
        seed);
  }

  public TttSettings withSplitNewlines(boolean split) {
    return new TttSettings(
        epochs,
        learningRate,
        batchSize,
        gradientAccumulation,
        schedule,
        warmupSteps,
        weightDecay,
        adamBeta1,
        adamBeta2,
        adamEpsilon,
        maxGradNorm,
        maxLength,
        padTo,
        padLabels,
        endMaskSubstring,
        split,
        lora,
        maxNewTokens,
        evalTimes,
        trainOnce,
        rejudgeBaseline,
        adaptersPerBatch,
        maxGenerationRows,
        seed);
  }

  public TttSettings withLora(LoraConfig l) {
    return new TttSettings(
        epochs,
        learningRate,
        batchSize,
        gradientAccumulation,
        schedule,
        warmupSteps,
        weightDecay,
        adamBeta1,
        adamBeta2,
        adamEpsilon,
        maxGradNorm,
        maxLength,
        padTo,
        padLabels,
        endMaskSubstring,
        splitNewlines,
        l,
        maxNewTokens,
        evalTimes,
        trainOnce,
        rejudgeBaseline,
        adaptersPerBatch,
        maxGenerationRows,
        seed);
  }

  public TttSettings withEvaluation(int newMaxNewTokens, int times, boolean once, boolean rejudge) {
    return new TttSettings(
        epochs,
        learningRate,
        batchSize,
        gradientAccumulation,
        schedule,
        warmupSteps,
        weightDecay,
        adamBeta1,
        adamBeta2,
        adamEpsilon,
        maxGradNorm,
        maxLength,
        padTo,
        padLabels,
        endMaskSubstring,
        splitNewlines,
        lora,
        newMaxNewTokens,
        times,
        once,
        rejudge,
        adaptersPerBatch,
        maxGenerationRows,
        seed);
  }

  public TttSettings withBatching(int adapters, int generationRows, long newSeed) {
    return new TttSettings(
        epochs,
        learningRate,
        batchSize,
        gradientAccumulation,
        schedule,
        warmupSteps,
        weightDecay,
        adamBeta1,
        adamBeta2,
        adamEpsilon,
        maxGradNorm,
        maxLength,
        padTo,
        padLabels,
        endMaskSubstring,
        splitNewlines,
        lora,
        maxNewTokens,
        evalTimes,
        trainOnce,
        rejudgeBaseline,
        adapters,
        generationRows,
        newSeed);
  }
}
