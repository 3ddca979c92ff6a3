package dev.editforge.finetune;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.editforge.config.AddedTokenSettings;
import dev.editforge.config.FinetuneSettings;
import dev.editforge.io.SftRow;
import dev.editforge.llm.ChatTemplate;
import dev.editforge.llm.DecoderLoader;
import dev.editforge.llm.DecoderModel;
import dev.editforge.llm.LoadedDecoder;
import dev.editforge.lora.Batching;
import dev.editforge.lora.LoraAdapter;
import dev.editforge.lora.LoraMerge;
import dev.editforge.lora.LoraStack;
import dev.editforge.lora.LoraTrainer;
import dev.editforge.lora.PeftAdapters;
import dev.editforge.lora.TokenizedSample;
import dev.editforge.lora.TrainSample;
import dev.editforge.lora.TrainSettings;
import dev.editforge.lora.TrainableTokens;
import dev.editforge.selfrag.ReflectionTokens;
import dev.editforge.text.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;
import java.util.function.Consumer;
import java.util.stream.Stream;

/**
 * The training that the finetune stage's one task runs: tokenize the sft rows ({@link
 * SftTokenizer}), hold out a seeded eval split, batch the rest ({@link Batching}), train one LoRA
 * adapter with {@link LoraTrainer}, measure the eval loss (mean token cross-entropy of the held-out
 * rows, each alone) before training and at every checkpoint, checkpoint every N steps into a {@link
 * CheckpointStore}, and write the PEFT adapter and the merged model.
 *
 * <p>Resume: when the store holds a checkpoint, training continues from the latest one (factors,
 * AdamW moments, step, seed, loss history) and ends with exactly the weights an uninterrupted run
 * with the same seed reaches: data order and dropout derive from (seed, epoch/step) only. The store
 * keeps the latest and the best (lowest eval loss) checkpoints; with {@code load-best} the output
 * adapter is the best checkpoint's.
 *
 * <p>Added tokens ({@code finetune.added-tokens}): the base model is first prepared with them
 * ({@link AddedTokenModel}, in a temporary directory), the rows of the new ids are trained beside
 * the LoRA factors ({@link TrainableTokens}), and the adapter directory gets the tokenizer too.
 * Passage spans are masked from the loss by {@link ParagraphMask}; rows left without a loss token
 * are dropped and counted ({@link Result#allMaskedRows}).
 */
public final class FinetuneRunner {
  /**
   * Called after every optimizer step (tests use it to kill a run). Serializable: it travels inside
   * the finetune stage's Spark task.
   */
  public interface StepListener extends java.io.Serializable {
    void afterStep(int step, int totalSteps);
  }

  /**
   * Receives the loss history after every optimizer step, inside the training task: {@code history}
   * has {@code trainer_log.json}'s shape ({@code initial_eval_loss}, {@code train_loss} and {@code
   * eval_loss} as {@code [step, loss]} pairs); {@code evalMeasured} says this step measured the
   * eval loss. Serializable: it travels inside the finetune stage's Spark task.
   */
  public interface ProgressSink extends java.io.Serializable {
    void update(int step, int totalSteps, JsonNode history, boolean evalMeasured);
  }

  /** What a run did. */
  public record Result(
      int steps,
      int totalSteps,
      int resumedFrom,
      int trainRows,
      int trainSamples,
      int evalSamples,
      long trainTokens,
      long truncatedTokens,
      double initialEvalLoss,
      double finalEvalLoss,
      double bestEvalLoss,
      int bestStep,
      int outputStep,
      double firstTrainLoss,
      double lastTrainLoss,
      String device,
      int allMaskedRows,
      int addedTokens) {}

  private static final String STATE = "finetune_state.json";

  private final FinetuneSettings settings;
  private final Consumer<String> log;

  public FinetuneRunner(FinetuneSettings settings, Consumer<String> log) {
    this.settings = settings;
    this.log = log;
  }

  /**
   * Train/eval split: a seeded shuffle picks {@code round(fraction * n)} eval rows (at least 1 when
   * fraction > 0 and n >= 2).
   */
  public static boolean[] evalMask(int n, double fraction, long seed) {
    boolean[] eval = new boolean[n];
    int count =
        fraction <= 0 || n < 2 ? 0 : (int) Math.max(1, Math.min(n - 1, Math.round(fraction * n)));
    List<Integer> idx = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      idx.add(i);
    }
    java.util.Collections.shuffle(idx, new Random(seed));
    for (int i = 0; i < count; i++) {
      eval[idx.get(i)] = true;
    }
    return eval;
  }

  /**
   * Trains on {@code rows} from the model in {@code modelDir} on {@code device}; checkpoints go to
   * {@code store}; the adapter and merged model to {@code out/adapter} and {@code out/merged}.
   */
  public Result run(
      List<SftRow> rows,
      Path modelDir,
      String baseModelName,
      Device device,
      CheckpointStore store,
      Path out,
      StepListener listener)
      throws IOException {
    return run(rows, modelDir, baseModelName, device, store, out, listener, (s, t, h, e) -> {});
  }

  /** As above, reporting the loss history to {@code progress} after every step. */
  public Result run(
      List<SftRow> rows,
      Path modelDir,
      String baseModelName,
      Device device,
      CheckpointStore store,
      Path out,
      StepListener listener,
      ProgressSink progress)
      throws IOException {
    Engine.getEngine("PyTorch");
    // libtorch's grad mode is per thread and on by default; DJL turns it off only on the thread
    // that
    // loaded the engine. A Spark task thread must turn it off itself, or the trainer's in-place
    // AdamW
    // update of the (grad-requiring) LoRA factors fails.
    JniUtils.setGradMode(false);
    if (settings.threads() > 0) {
      JniUtils.setNumThreads(settings.threads());
    }
    if (settings.fullParameters()) {
      return new FullFinetune(settings, log)
          .run(rows, modelDir, device, store, out, listener, progress);
    }
    AddedTokenSettings added = settings.addedTokens();
    AddedTokenModel.Prepared vocab = null;
    Path loadDir = modelDir;
    if (!added.tokens().isEmpty()) {
      vocab =
          AddedTokenModel.prepare(
              modelDir,
              Files.createTempDirectory("editforge-added-tokens-"),
              added.tokens(),
              added.resizeMultiple(),
              AddedTokenModel.Init.parse(added.init()),
              settings.seed());
      loadDir = vocab.dir();
      log.accept(
          vocab.count() == 0
              ? "finetune: the tokenizer already has all "
                  + added.tokens().size()
                  + " added tokens; no rows to add or train"
              : String.format(
                  java.util.Locale.ROOT,
                  "finetune: %d tokens added (ids %d..%d; %d already known), embedding rows %d -> %d",
                  vocab.count(),
                  vocab.start(),
                  vocab.start() + vocab.count() - 1,
                  added.tokens().size() - vocab.count(),
                  vocab.oldRows(),
                  vocab.newRows()));
    }
    try (LoadedDecoder dec =
        DecoderLoader.load(loadDir, device, DecoderLoader.dtype(settings.dtype(), device))) {
      DecoderModel model = dec.model();
      ChatTemplate template =
          settings.templateOrNull() == null ? null : dec.chatTemplate(settings.chatTemplate());
      SftTokenizer tok = new SftTokenizer(dec.tokenizer(), template, settings.completionOnly());
      ParagraphMask mask =
          new ParagraphMask(
              ParagraphMask.Mode.parse(added.paragraphMask()),
              dec.tokenizer().specialTokenId(ReflectionTokens.PARAGRAPH_OPEN),
              dec.tokenizer().specialTokenId(ReflectionTokens.PARAGRAPH_CLOSE));
      boolean[] isEval = evalMask(rows.size(), settings.evalFraction(), settings.seed());
      List<TokenizedSample> train = new ArrayList<>();
      List<TokenizedSample> eval = new ArrayList<>();
      int allMasked = 0;
      for (int i = 0; i < rows.size(); i++) {
        TokenizedSample sample = tok.tokenize(rows.get(i));
        if (mask.active()) {
          sample = mask.apply(sample, tok.promptLength(rows.get(i)));
          if (sample.lossTokens() == 0) {
            // Self-RAG drops such rows too (finetune.py:515); here they are counted.
            allMasked++;
            continue;
          }
        }
        (isEval[i] ? eval : train).add(sample);
      }
      if (allMasked > 0) {
        log.accept(
            "finetune: "
                + allMasked
                + " rows dropped: no token left to learn once their passages were masked");
      }
      if (train.isEmpty()) {
        throw new IllegalArgumentException(
            "no training rows: the sft table has " + rows.size() + " rows");
      }
      Batching.Plan plan = Batching.plan(train, settings.batching(), settings.maxLength());
      List<TrainSample> data = new ArrayList<>(plan.rows().size());
      for (Batching.Row r : plan.rows()) {
        data.add(new TrainSample(r.inputIds(), r.labels(), r.positionIds(), r.segmentIds()));
      }
      int padId = padId(dec);
      List<Batching.Batch> evalBatches =
          Batching.batches(
              Batching.plan(eval, Batching.Mode.PADDING, settings.maxLength()).rows(),
              settings.batchSize(),
              padId);
      TrainSettings ts = settings.train();
      log.accept(
          String.format(
              java.util.Locale.ROOT,
              "finetune: %d train rows (%s batching of %d samples, %d tokens, %d cut), %d eval samples, on %s",
              data.size(),
              settings.batching().wireName(),
              train.size(),
              plan.tokens(),
              plan.truncatedTokens(),
              eval.size(),
              device));

      ObjectNode state;
      LoraTrainer trainer;
      LoraStack stack;
      // a checkpoint a kill left half-uploaded (no _COMMITTED marker) must not be resumed from
      store.discardUncommitted();
      Optional<Integer> latest = store.latest();
      int resumedFrom = 0;
      if (latest.isPresent()) {
        Path local = Files.createTempDirectory("editforge-ckpt-");
        Files.delete(local);
        store.fetch(latest.get(), local);
        trainer = LoraTrainer.resume(model, local, List.of(data), ts);
        stack = trainer.stack();
        state = (ObjectNode) Json.MAPPER.readTree(local.resolve(STATE).toFile());
        deleteTree(local);
        resumedFrom = latest.get();
        log.accept("finetune: resumed from checkpoint " + store.path(latest.get()));
      } else {
        LoraAdapter init = LoraAdapter.initialize(model.config(), settings.lora(), settings.seed());
        if (vocab != null && vocab.count() > 0) {
          init =
              init.withTrainableTokens(
                  TrainableTokens.fromModel(model, vocab.start(), vocab.count()));
        }
        stack = LoraStack.of(List.of(init), device);
        trainer =
            new LoraTrainer(model, stack, List.of(data), ts, new long[] {settings.seed()}, padId);
        state = Json.MAPPER.createObjectNode();
        putNum(state, "initial_eval_loss", evalLoss(model, stack, evalBatches));
        state.putArray("train_loss");
        state.putArray("eval_loss");
        state.put("best_step", -1);
        state.putNull("best_eval_loss");
      }
      try {
        int total = trainer.totalSteps(0);
        while (trainer.step()) {
          int step = trainer.stepsDone(0);
          ((ArrayNode) state.get("train_loss"))
              .addArray()
              .add(step)
              .add(trainer.report().lastLoss()[0]);
          boolean checkpoint = step % settings.checkpointEvery() == 0 || step == total;
          boolean measure =
              checkpoint || (settings.evalEvery() > 0 && step % settings.evalEvery() == 0);
          boolean measured = measure && !evalBatches.isEmpty();
          if (measured) {
            double loss = evalLoss(model, stack, evalBatches);
            ((ArrayNode) state.get("eval_loss")).addArray().add(step).add(loss);
            log.accept(
                String.format(
                    java.util.Locale.ROOT,
                    "finetune: step %d/%d train loss %.4f eval loss %.4f",
                    step,
                    total,
                    trainer.report().lastLoss()[0],
                    loss));
            if (checkpoint
                && (state.get("best_step").asInt() < 0 || loss < num(state, "best_eval_loss"))) {
              state.put("best_step", step);
              state.put("best_eval_loss", loss);
            }
          } else if (checkpoint && evalBatches.isEmpty()) {
            state.put("best_step", step);
          }
          if (checkpoint) {
            Path local = Files.createTempDirectory("editforge-ckpt-");
            trainer.saveCheckpoint(local, baseModelName);
            Json.MAPPER
                .writerWithDefaultPrettyPrinter()
                .writeValue(local.resolve(STATE).toFile(), state);
            store.save(local, step);
            deleteTree(local);
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
        int outputStep = trainer.stepsDone(0);
        LoraAdapter adapter = stack.adapter(0);
        if (settings.loadBest() && bestStep > 0 && bestStep != outputStep) {
          Path local = Files.createTempDirectory("editforge-best-");
          Files.delete(local);
          store.fetch(bestStep, local);
          adapter = PeftAdapters.load(local.resolve("adapter-0"), model.config());
          deleteTree(local);
          outputStep = bestStep;
        }
        PeftAdapters.save(out.resolve("adapter"), adapter, baseModelName);
        if (vocab != null) {
          // transformers users resize the base to this tokenizer before loading the adapter
          AddedTokenModel.copyTokenizer(loadDir, out.resolve("adapter"));
        }
        LoraMerge.saveMerged(model, adapter, out.resolve("merged"), settings.maxShardBytes());
        state.put("output_step", outputStep);
        Json.MAPPER
            .writerWithDefaultPrettyPrinter()
            .writeValue(out.resolve(FinetuneJob.TRAINER_LOG).toFile(), state);
        ArrayNode trainLoss = (ArrayNode) state.get("train_loss");
        ArrayNode evalLoss = (ArrayNode) state.get("eval_loss");
        double finalEval =
            evalLoss.isEmpty() ? Double.NaN : evalLoss.get(evalLoss.size() - 1).get(1).asDouble();
        return new Result(
            trainer.stepsDone(0),
            total,
            resumedFrom,
            data.size(),
            train.size(),
            eval.size(),
            plan.tokens(),
            plan.truncatedTokens(),
            num(state, "initial_eval_loss"),
            finalEval,
            num(state, "best_eval_loss"),
            bestStep,
            outputStep,
            trainLoss.isEmpty() ? Double.NaN : trainLoss.get(0).get(1).asDouble(),
            trainLoss.isEmpty()
                ? Double.NaN
                : trainLoss.get(trainLoss.size() - 1).get(1).asDouble(),
            device.toString(),
            allMasked,
            vocab == null ? 0 : vocab.count());
      } finally {
        trainer.close();
        stack.close();
      }
    } finally {
      if (vocab != null) {
        deleteTree(vocab.dir());
      }
    }
  }

  /**
   * The tokenizer's pad token, else its EOS, else 0 (padding is masked out of attention and loss).
   */
  static int padId(LoadedDecoder dec) {
    int pad = dec.tokenizer().specialTokenId(dec.tokenizer().padToken());
    if (pad >= 0) {
      return pad;
    }
    return Math.max(0, dec.tokenizer().eosTokenId());
  }

  /**
   * Mean token cross-entropy of the eval batches under the adapter, or under the bare model when
   * {@code stack} is null (full fine-tuning); NaN when there are none.
   */
  public static double evalLoss(DecoderModel model, LoraStack stack, List<Batching.Batch> batches) {
    double sum = 0;
    long tokens = 0;
    for (Batching.Batch b : batches) {
      try (NDManager m = NDManager.newBaseManager(model.device(), "PyTorch")) {
        NDArray logits =
            model.forward(
                CausalLm.input(
                    m, b, stack == null ? null : stack.delta(m, new int[] {0}, b.rows())));
        sum += CausalLm.tokenLosses(logits, b).sum().getFloat();
        tokens += b.lossTokens();
      }
    }
    return tokens == 0 ? Double.NaN : sum / tokens;
  }

  static void putNum(ObjectNode node, String key, double v) {
    if (Double.isNaN(v)) {
      node.putNull(key);
    } else {
      node.put(key, v);
    }
  }

  static double num(JsonNode node, String key) {
    JsonNode v = node.get(key);
    return v == null || v.isNull() ? Double.NaN : v.asDouble();
  }

  static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(p);
      }
    }
  }

  /** Reads a trainer_log.json (for reports). */
  public static JsonNode readLog(Path file) {
    try {
      return Json.MAPPER.readTree(file.toFile());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
