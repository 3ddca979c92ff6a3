package dev.editforge.config;

import dev.editforge.llm.ChatTemplate;
import dev.editforge.lora.Batching;
import dev.editforge.lora.LoraConfig;
import dev.editforge.lora.TrainSettings;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;

/**
 * {@code editforge.finetune}: LoRA SFT of a base model on an {@code sft} table. See reference.conf
 * for every key.
 *
 * @param model base model: a local directory in Hugging Face layout or a hub id
 * @param sft the {@code sft} Parquet path to train on; empty = this run's {@code sft} table
 * @param chatTemplate {@code model} (the tokenizer's own), a built-in ({@link
 *     ChatTemplate#BUILT_IN_NAMES}), or {@code none} (raw prompt + completion + EOS)
 * @param completionOnly true: loss on the completion only; false: on every token
 * @param evalFraction share of the rows held out for the eval loss (seeded split)
 * @param evalEvery steps between eval-loss measurements; 0 = at every checkpoint
 * @param checkpointEvery steps between checkpoints (a checkpoint is also written at the end)
 * @param gpus GPUs the one training task asks Spark for; 0 = train on CPU in an ordinary task
 * @param maxShardBytes the merged model's weights are split into files of at most this many bytes
 * @param method {@code lora} (train an adapter, merge it) or {@code full} (train every weight)
 * @param fullMemoryBytes memory {@code method = full} may fill with weights, gradients and AdamW
 *     state; 0 = the training task's Spark memory (executor, or driver in local mode)
 * @param addedTokens special tokens added before training, their rows' init, paragraph masking
 */
public record FinetuneSettings(
    String model,
    String sft,
    String chatTemplate,
    boolean completionOnly,
    Batching.Mode batching,
    int maxLength,
    int epochs,
    int maxSteps,
    int batchSize,
    int gradientAccumulation,
    double learningRate,
    String schedule,
    int warmupSteps,
    double warmupRatio,
    double weightDecay,
    double maxGradNorm,
    int loraRank,
    double loraAlpha,
    double loraDropout,
    List<String> loraTargets,
    double evalFraction,
    int evalEvery,
    int checkpointEvery,
    boolean loadBest,
    long seed,
    int gpus,
    String dtype,
    int threads,
    long maxShardBytes,
    String method,
    long fullMemoryBytes,
    AddedTokenSettings addedTokens)
    implements Serializable {

  public static final List<String> METHODS = List.of("lora", "full");

  public static final List<String> SCHEDULES = List.of("linear", "cosine", "constant");
  public static final List<String> LOSSES = List.of("completion-only", "full");

  public FinetuneSettings {
    loraTargets = List.copyOf(loraTargets);
    lora(loraRank, loraAlpha, loraDropout, loraTargets);
    if (addedTokens == null) {
      addedTokens = AddedTokenSettings.none();
    }
    if ("full".equals(method) && !addedTokens.tokens().isEmpty()) {
      // the added rows are trained beside LoRA factors; full training has no such path yet
      throw new IllegalArgumentException(
          "added-tokens needs method = lora (method = full does not add tokens yet)");
    }
  }

  public static List<String> chatTemplates() {
    List<String> t = new ArrayList<>();
    t.add("model");
    t.addAll(ChatTemplate.BUILT_IN_NAMES);
    t.add("none");
    return t;
  }

  public static FinetuneSettings from(ConfigReader r) {
    List<String> batchings = List.of("padding", "packed", "concat", "bfd");
    ConfigReader lora = r.section("lora");
    if (r.integer("epochs", 0, 100_000) < 1 && r.integer("max-steps", 0, Integer.MAX_VALUE) < 1) {
      throw new SettingsException("editforge.finetune: set epochs >= 1 or max-steps >= 1");
    }
    try {
      return new FinetuneSettings(
          r.string("model"),
          r.string("sft"),
          r.oneOf("chat-template", chatTemplates()),
          r.oneOf("loss", LOSSES).equals("completion-only"),
          Batching.Mode.parse(r.oneOf("batching", batchings)),
          r.integer("max-length", 2, 1 << 20),
          r.integer("epochs", 0, 100_000),
          r.integer("max-steps", 0, Integer.MAX_VALUE),
          r.integer("batch-size", 1, 65_536),
          r.integer("gradient-accumulation", 1, 65_536),
          r.number("learning-rate", 1e-12, 10.0),
          r.oneOf("schedule", SCHEDULES),
          r.integer("warmup-steps", 0, Integer.MAX_VALUE),
          r.number("warmup-ratio", 0.0, 1.0),
          r.number("weight-decay", 0.0, 10.0),
          r.number("max-grad-norm", 0.0, 1e9),
          lora.integer("rank", 1, 4096),
          lora.number("alpha", 1e-9, 1e9),
          lora.number("dropout", 0.0, 0.999),
          lora.strings("targets"),
          r.number("eval-fraction", 0.0, 0.9),
          r.integer("eval-every", 0, Integer.MAX_VALUE),
          r.integer("checkpoint-every", 1, Integer.MAX_VALUE),
          r.bool("load-best"),
          r.longValue("seed", Long.MIN_VALUE, Long.MAX_VALUE),
          r.integer("gpus", 0, 64),
          r.oneOf("dtype", List.of("auto", "float32", "float16")),
          r.integer("threads", 0, 1024),
          r.bytes("max-shard-size", 1, Long.MAX_VALUE),
          r.oneOf("method", METHODS),
          r.bytes("full-memory", 0, Long.MAX_VALUE),
          AddedTokenSettings.from(r));
    } catch (IllegalArgumentException e) {
      throw new SettingsException("editforge.finetune: " + e.getMessage());
    }
  }

  private static LoraConfig lora(int rank, double alpha, double dropout, List<String> targets) {
    return new LoraConfig(rank, alpha, dropout, targets);
  }

  public LoraConfig lora() {
    return lora(loraRank, loraAlpha, loraDropout, loraTargets);
  }

  /** The trainer's settings; rows are already cut to {@code maxLength} by {@link Batching}. */
  public TrainSettings train() {
    if (epochs < 1 && maxSteps < 1) {
      throw new SettingsException("editforge.finetune: set epochs >= 1 or max-steps >= 1");
    }
    TrainSettings.Schedule s =
        TrainSettings.Schedule.valueOf(schedule.toUpperCase(java.util.Locale.ROOT));
    return new TrainSettings(
        Math.max(1, epochs),
        maxSteps,
        learningRate,
        0.9,
        0.999,
        1e-8,
        weightDecay,
        s,
        warmupSteps,
        warmupRatio,
        maxGradNorm,
        batchSize,
        gradientAccumulation,
        maxLength,
        TrainSettings.PadTo.LONGEST,
        false,
        true);
  }

  public boolean fullParameters() {
    return method.equals("full");
  }

  /** The chat template setting, or null for {@code none}. */
  public String templateOrNull() {
    return chatTemplate.equals("none") ? null : chatTemplate;
  }
}
