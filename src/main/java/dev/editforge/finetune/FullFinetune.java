package dev.editforge.finetune;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.editforge.config.FinetuneSettings;
import dev.editforge.io.SftRow;
import dev.editforge.llm.ChatTemplate;
import dev.editforge.llm.DecoderLoader;
import dev.editforge.llm.DecoderModel;
import dev.editforge.llm.LoadedDecoder;
import dev.editforge.llm.ModelConfig;
import dev.editforge.lora.Batching;
import dev.editforge.lora.TokenizedSample;
import dev.editforge.text.Json;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;

/**
 * {@code finetune.method = full}: the finetune stage's training with every weight trained ({@link
 * FullTrainer}) instead of a LoRA adapter. Same data path as {@link FinetuneRunner} (tokenize,
 * seeded eval split, batching, eval loss before training and at checkpoints, {@link
 * CheckpointStore} with exact resume, latest and best kept); the output is a Hugging Face model in
 * {@code out/merged} (no adapter). Also the start-up memory check: {@link #requiredBytes} against
 * {@link #check}.
 */
final class FullFinetune {
  private static final String STATE = "finetune_state.json";

  private final FinetuneSettings settings;
  private final Consumer<String> log;

  FullFinetune(FinetuneSettings settings, Consumer<String> log) {
    this.settings = settings;
    this.log = log;
  }

  /** Weights, gradients and two AdamW moments of a model of {@code config}, float32. */
  static long requiredBytes(ModelConfig config) {
    return FullTrainer.stateBytes(config.parameterCount());
  }

  /**
   * Null when full training of {@code config} fits {@code memoryBytes}, else the one-line reason
   * with the estimate.
   */
  static String check(ModelConfig config, long memoryBytes, String memorySource) {
    long need = requiredBytes(config);
    if (need <= memoryBytes) {
      return null;
    }
    return String.format(
        Locale.ROOT,
        "finetune.method = full needs about %s for a %s model of %,d parameters (weights +"
            + " gradients + 2 AdamW moments, float32: 16 bytes per parameter, before activations),"
            + " but %s gives %s; use finetune.method = lora, a smaller model, or raise %s",
        human(need),
        config.modelType(),
        config.parameterCount(),
        memorySource,
        human(memoryBytes),
        memorySource);
  }

  static String human(long bytes) {
    if (bytes >= 1L << 30) {
      return String.format(Locale.ROOT, "%.1f GiB", bytes / (double) (1L << 30));
    }
    if (bytes >= 1L << 20) {
      return String.format(Locale.ROOT, "%.1f MiB", bytes / (double) (1L << 20));
    }
    return String.format(Locale.ROOT, "%.1f KiB", bytes / 1024.0);
  }

  FinetuneRunner.Result run(
      List<SftRow> rows,
      Path modelDir,
      Device device,
      CheckpointStore store,
      Path out,
      FinetuneRunner.StepListener listener,
      FinetuneRunner.ProgressSink progress)
      throws IOException {
    try (LoadedDecoder dec = DecoderLoader.load(modelDir, device, DataType.FLOAT32)) {
      DecoderModel model = dec.model();
      ChatTemplate template =
          settings.templateOrNull() == null ? null : dec.chatTemplate(settings.chatTemplate());
      SftTokenizer tok = new SftTokenizer(dec.tokenizer(), template, settings.completionOnly());
      boolean[] isEval =
          FinetuneRunner.evalMask(rows.size(), settings.evalFraction(), settings.seed());
      List<TokenizedSample> train = new ArrayList<>();
      List<TokenizedSample> eval = new ArrayList<>();
      for (int i = 0; i < rows.size(); i++) {
        (isEval[i] ? eval : train).add(tok.tokenize(rows.get(i)));
      }
      if (train.isEmpty()) {
        throw new IllegalArgumentException(
            "no training rows: the sft table has " + rows.size() + " rows");
      }
      Batching.Plan plan = Batching.plan(train, settings.batching(), settings.maxLength());
      int padId = FinetuneRunner.padId(dec);
      List<Batching.Batch> evalBatches =
          Batching.batches(
              Batching.plan(eval, Batching.Mode.PADDING, settings.maxLength()).rows(),
              settings.batchSize(),
              padId);
      log.accept(
          String.format(
              Locale.ROOT,
              "finetune (full, %,d parameters): %d train rows (%s batching of %d samples), %d eval samples, on %s",
              model.config().parameterCount(),
              plan.rows().size(),
              settings.batching().wireName(),
              train.size(),
              eval.size(),
              device));
      store.discardUncommitted();
      Optional<Integer> latest = store.latest();
      FullTrainer trainer;
      ObjectNode state;
      int resumedFrom = 0;
      if (latest.isPresent()) {
        Path local = fetch(store, latest.get());
        trainer = FullTrainer.resume(model, local, plan.rows(), settings.train());
        state = (ObjectNode) Json.MAPPER.readTree(local.resolve(STATE).toFile());
        FinetuneRunner.deleteTree(local);
        resumedFrom = latest.get();
        log.accept("finetune: resumed from checkpoint " + store.path(latest.get()));
      } else {
        trainer = new FullTrainer(model, plan.rows(), settings.train(), settings.seed(), padId);
        state = Json.MAPPER.createObjectNode();
        FinetuneRunner.putNum(
            state, "initial_eval_loss", FinetuneRunner.evalLoss(model, null, evalBatches));
        state.putArray("train_loss");
        state.putArray("eval_loss");
        state.put("best_step", -1);
        state.putNull("best_eval_loss");
      }
      state.put("method", "full");
      try (trainer) {
        int total = trainer.totalSteps();
        while (trainer.step()) {
          int step = trainer.stepsDone();
          ((ArrayNode) state.get("train_loss")).addArray().add(step).add(trainer.lastLoss());
          boolean checkpoint = step % settings.checkpointEvery() == 0 || step == total;
          boolean measure =
              checkpoint || (settings.evalEvery() > 0 && step % settings.evalEvery() == 0);
          boolean measured = measure && !evalBatches.isEmpty();
          if (measured) {
            double loss = FinetuneRunner.evalLoss(model, null, evalBatches);
            ((ArrayNode) state.get("eval_loss")).addArray().add(step).add(loss);
            log.accept(
                String.format(
                    Locale.ROOT,
                    "finetune: step %d/%d train loss %.4f eval loss %.4f",
                    step,
                    total,
                    trainer.lastLoss(),
                    loss));
            if (checkpoint
                && (state.get("best_step").asInt() < 0
                    || loss < FinetuneRunner.num(state, "best_eval_loss"))) {
              state.put("best_step", step);
              state.put("best_eval_loss", loss);
            }
          } else if (checkpoint && evalBatches.isEmpty()) {
            state.put("best_step", step);
          }
          if (checkpoint) {
            Path local = Files.createTempDirectory("editforge-ckpt-");
            trainer.saveCheckpoint(local);
            Json.MAPPER
                .writerWithDefaultPrettyPrinter()
                .writeValue(local.resolve(STATE).toFile(), state);
            store.save(local, step);
            FinetuneRunner.deleteTree(local);
            Set<Integer> keep = new TreeSet<>(List.of(step));
            if (state.get("best_step").asInt() > 0) {
              keep.add(state.get("best_step").asInt());
            }
            store.retain(keep);
          }
          progress.update(step, total, state, measured);
          listener.afterStep(step, total);
        }
        int bestStep = state.get("best_step").asInt();
        int outputStep = trainer.stepsDone();
        if (settings.loadBest() && bestStep > 0 && bestStep != outputStep) {
          Path local = fetch(store, bestStep);
          FullTrainer.loadWeights(model, local.resolve(FullTrainer.WEIGHTS));
          FinetuneRunner.deleteTree(local);
          outputStep = bestStep;
        }
        trainer.saveModel(out.resolve("merged"), settings.maxShardBytes());
        state.put("output_step", outputStep);
        Json.MAPPER
            .writerWithDefaultPrettyPrinter()
            .writeValue(out.resolve(FinetuneJob.TRAINER_LOG).toFile(), state);
        ArrayNode trainLoss = (ArrayNode) state.get("train_loss");
        ArrayNode evalLoss = (ArrayNode) state.get("eval_loss");
        return new FinetuneRunner.Result(
            trainer.stepsDone(),
            total,
            resumedFrom,
            plan.rows().size(),
            train.size(),
            eval.size(),
            plan.tokens(),
            plan.truncatedTokens(),
            FinetuneRunner.num(state, "initial_eval_loss"),
            evalLoss.isEmpty() ? Double.NaN : evalLoss.get(evalLoss.size() - 1).get(1).asDouble(),
            FinetuneRunner.num(state, "best_eval_loss"),
            bestStep,
            outputStep,
            trainLoss.isEmpty() ? Double.NaN : trainLoss.get(0).get(1).asDouble(),
            trainLoss.isEmpty()
                ? Double.NaN
                : trainLoss.get(trainLoss.size() - 1).get(1).asDouble(),
            device.toString(),
            0,
            0);
      }
    }
  }

  private static Path fetch(CheckpointStore store, int step) throws IOException {
    Path local = Files.createTempDirectory("editforge-ckpt-");
    Files.delete(local);
    return store.fetch(step, local);
  }
}
