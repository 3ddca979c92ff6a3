package dev.editforge.finetune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.jni.JniUtils;
import dev.editforge.CliRun;
import dev.editforge.config.FinetuneSettings;
import dev.editforge.io.UnusableInputException;
import dev.editforge.llm.DecoderModel;
import dev.editforge.llm.ModelConfig;
import dev.editforge.llm.RandomGpt2Writer;
import dev.editforge.lora.Batching;
import dev.editforge.lora.TokenizedSample;
import dev.editforge.lora.TrainSettings;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code finetune.method = full} on a test-made GPT-2: every weight trains, a run resumed halfway
 * from a checkpoint ends with the uninterrupted run's weights, the output is a Hugging Face model,
 * and a model too large for the memory given is refused at start-up with the estimate.
 */
class FullFinetuneTest {
  @TempDir static Path dir;
  static Path model;

  @BeforeAll
  static void setUp() {
    Engine.getEngine("PyTorch");
    JniUtils.setNumThreads(1);
    model =
        RandomGpt2Writer.write(dir.resolve("gpt2"), RandomGpt2Writer.config(32, 2, 4, 64), 3, true);
  }

  private static List<Batching.Row> rows(int n) {
    SplittableRandom rng = new SplittableRandom(4);
    List<TokenizedSample> samples = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int[] ids = new int[5 + rng.nextInt(8)];
      for (int t = 0; t < ids.length; t++) {
        ids[t] = 1 + rng.nextInt(250);
      }
      samples.add(new TokenizedSample(ids, ids.clone()));
    }
    return Batching.plan(samples, Batching.Mode.PADDING, 32).rows();
  }

  private static final TrainSettings SETTINGS =
      TrainSettings.defaults()
          .withMaxSteps(6)
          .withBatching(2, 2)
          .withLearningRate(3e-3)
          .withOptimizer(0.9, 0.999, 1e-8, 0.01, 1.0);

  private static Map<String, float[]> weights(DecoderModel m) {
    Map<String, float[]> out = new LinkedHashMap<>();
    m.weights().forEach((k, v) -> out.put(k, v.toFloatArray()));
    return out;
  }

  @Test
  void everyWeightTrainsAndAResumedRunEndsWithTheUninterruptedRunsWeights() throws Exception {
    List<Batching.Row> data = rows(10);
    Map<String, float[]> base;
    Map<String, float[]> whole;
    double first;
    double last;
    try (DecoderModel m = DecoderModel.load(model, Device.cpu(), DataType.FLOAT32)) {
      base = weights(m);
      try (FullTrainer t = new FullTrainer(m, data, SETTINGS, 11, 0)) {
        assertEquals(6, t.totalSteps());
        t.step();
        first = t.lastLoss();
        while (t.step()) {
          // train
        }
        last = t.lastLoss();
      }
      whole = weights(m);
      assertFalse(m.weight("transformer.wte.weight").hasGradient(), "released after training");
    }
    assertTrue(last < first, "loss " + first + " -> " + last);
    for (String name : base.keySet()) {
      assertFalse(java.util.Arrays.equals(base.get(name), whole.get(name)), name + " was trained");
    }
    Path ckpt = dir.resolve("ckpt");
    try (DecoderModel m = DecoderModel.load(model, Device.cpu(), DataType.FLOAT32);
        FullTrainer t = new FullTrainer(m, data, SETTINGS, 11, 0)) {
      for (int i = 0; i < 3; i++) {
        t.step();
      }
      t.saveCheckpoint(ckpt);
    }
    assertTrue(Files.exists(ckpt.resolve("model/config.json")), "the checkpoint is a model dir");
    Map<String, float[]> resumed;
    try (DecoderModel m = DecoderModel.load(model, Device.cpu(), DataType.FLOAT32)) {
      try (FullTrainer t = FullTrainer.resume(m, ckpt, data, SETTINGS)) {
        assertEquals(3, t.stepsDone());
        while (t.step()) {
          // the second half
        }
      }
      resumed = weights(m);
    }
    for (String name : whole.keySet()) {
      assertArrayEquals(whole.get(name), resumed.get(name), 1e-6f, name);
    }
  }

  @Test
  void methodFullWritesAHuggingFaceModelAndNoAdapter() throws Exception {
    FinetuneSettings s =
        FinetuneRunnerTest.settings(
            "method = full, max-steps = 6, batch-size = 2, learning-rate = 0.003,"
                + " checkpoint-every = 3, eval-fraction = 0.25, chat-template = none,"
                + " batching = packed, max-length = 64, seed = 5");
    CheckpointStore store =
        new CheckpointStore(
            new org.apache.hadoop.fs.Path(dir.resolve("run/ckpt").toUri()), new Configuration());
    Path out = Files.createDirectories(dir.resolve("run/out"));
    FinetuneRunner.Result r =
        new FinetuneRunner(s, m -> {})
            .run(
                FinetuneRunnerTest.rows(12), model, "gpt2", Device.cpu(), store, out, (a, b) -> {});
    assertEquals(6, r.steps());
    assertTrue(
        r.bestEvalLoss() < r.initialEvalLoss(),
        "eval loss " + r.initialEvalLoss() + " -> " + r.bestEvalLoss());
    assertFalse(Files.exists(out.resolve("adapter")), "full training has no adapter");
    assertTrue(Files.exists(out.resolve("merged/tokenizer.json")));
    try (DecoderModel tuned =
            DecoderModel.load(out.resolve("merged"), Device.cpu(), DataType.FLOAT32);
        DecoderModel base = DecoderModel.load(model, Device.cpu(), DataType.FLOAT32)) {
      assertTrue(tuned.config().isGpt2());
      float[] a = tuned.weight("transformer.h.1.mlp.c_fc.weight").toFloatArray();
      float[] b = base.weight("transformer.h.1.mlp.c_fc.weight").toFloatArray();
      assertFalse(java.util.Arrays.equals(a, b), "the written model is the trained one");
    }
  }

  @Test
  void loraTargetsAModelLacksAreRefusedAtStartUp() {
    FinetuneSettings llamaTargets = FinetuneRunnerTest.settings("");
    UnusableInputException e =
        org.junit.jupiter.api.Assertions.assertThrows(
            UnusableInputException.class,
            () -> FinetuneJob.refuseTargetsTheModelLacks(llamaTargets, model.toString()));
    assertTrue(
        e.getMessage().contains("lora.targets") && e.getMessage().contains("c_attn"),
        e.getMessage());
    FinetuneJob.refuseTargetsTheModelLacks(
        FinetuneRunnerTest.settings("lora.targets = [c_attn, c_proj]"), model.toString());
  }

  @Test
  void aModelTooLargeForTheMemoryGivenIsRefusedAtStartUpWithTheEstimate() throws Exception {
    ModelConfig c = ModelConfig.load(model);
    long need = FullFinetune.requiredBytes(c);
    assertEquals(16 * c.parameterCount(), need);
    assertNull(FullFinetune.check(c, need, "x"), "exactly enough fits");
    String problem = FullFinetune.check(c, need - 1, "editforge.finetune.full-memory");
    assertTrue(problem.contains("16 bytes per parameter") && problem.contains("full-memory"));
    // The sft table is checked first (absent, a pipeline passes finetune over), so give one here.
    Path sft = Files.createDirectories(dir.resolve("sft-for-too-large"));
    Files.writeString(sft.resolve("part-0.parquet"), "x");
    CliRun run =
        CliRun.of(
            "finetune",
            "--model",
            model.toString(),
            "--run-dir",
            dir.resolve("too-large").toString(),
            "--set",
            "finetune.sft=" + sft,
            "--set",
            "finetune.method=full",
            "--set",
            "finetune.full-memory=100kB");
    assertEquals(2, run.exitCode(), run.toString());
    assertTrue(
        run.err()
                .contains(
                    String.format(java.util.Locale.ROOT, "%,d parameters", c.parameterCount()))
            && run.err().contains(FullFinetune.human(need)),
        run.err());
  }
}
