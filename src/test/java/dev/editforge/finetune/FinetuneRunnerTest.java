package dev.editforge.finetune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.editforge.config.ConfigReader;
import dev.editforge.config.FinetuneSettings;
import dev.editforge.io.SftRow;
import dev.editforge.io.SftSource;
import dev.editforge.llm.DecoderLoader;
import dev.editforge.llm.LoadedDecoder;
import dev.editforge.llm.ModelConfig;
import dev.editforge.llm.TinyModels;
import dev.editforge.lora.Batching;
import dev.editforge.lora.LoraAdapter;
import dev.editforge.lora.PeftAdapters;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class FinetuneRunnerTest {
  @TempDir static Path dir;
  static Path model;

  @BeforeAll
  static void setUp() {
    Engine.getEngine("PyTorch");
    JniUtils.setNumThreads(1);
    model = TinyModels.qwen2(dir.resolve("model"), TinyModels.Size.TINY, 21);
  }

  /**
   * Finetune settings from reference.conf with overrides (HOCON, keys below editforge.finetune).
   */
  public static FinetuneSettings settings(String overrides) {
    Config c =
        ConfigFactory.parseString(overrides)
            .atPath("editforge.finetune")
            .withFallback(ConfigFactory.parseResources("reference.conf"))
            .resolve();
    return FinetuneSettings.from(
        new ConfigReader(c.getConfig("editforge.finetune"), "editforge.finetune"));
  }

  /** Rows that share one answer, so what is learned on the train split shows on the eval split. */
  public static List<SftRow> rows(int n) {
    String[] topics = {
      "heat", "light", "sound", "water", "iron", "salt", "gold", "glass", "wind", "rain", "stone",
      "sand"
    };
    List<SftRow> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      out.add(
          SftRow.exchange(
              "Tell me about " + topics[i % topics.length] + " number " + i,
              "the answer is always the same",
              SftSource.SELF_EDIT,
              "e" + i,
              1.0));
    }
    return out;
  }

  static final String TRAIN =
      "max-steps = 8, batch-size = 2, learning-rate = 0.02, checkpoint-every = 3, "
          + "eval-fraction = 0.25, lora { rank = 4, alpha = 8, dropout = 0.1 }, warmup-steps = 1, seed = 7";

  static FinetuneRunner.Result run(FinetuneSettings s, Path work, FinetuneRunner.StepListener l)
      throws Exception {
    CheckpointStore store =
        new CheckpointStore(
            new org.apache.hadoop.fs.Path(work.resolve("ckpt").toUri()), new Configuration());
    Files.createDirectories(work.resolve("out"));
    return new FinetuneRunner(s, m -> {})
        .run(rows(12), model, "tiny-qwen", Device.cpu(), store, work.resolve("out"), l);
  }

  @Test
  void trainingLowersEvalLossAndWritesAdapterAndMergedModel() throws Exception {
    FinetuneSettings s = settings(TRAIN + ", batching = bfd, max-length = 512, load-best = true");
    Path work = dir.resolve("lower");
    FinetuneRunner.Result r = run(s, work, (step, total) -> {});
    assertEquals(8, r.steps());
    assertEquals(3, r.evalSamples());
    assertEquals(9, r.trainSamples());
    assertTrue(r.trainRows() < 9, "bfd packs several samples per row");
    assertTrue(
        r.bestEvalLoss() < r.initialEvalLoss() - 0.1,
        "eval loss " + r.initialEvalLoss() + " -> best " + r.bestEvalLoss());
    assertTrue(r.lastTrainLoss() < r.firstTrainLoss());
    assertTrue(Files.exists(work.resolve("out/adapter/adapter_config.json")));
    assertTrue(Files.exists(work.resolve("out/merged/model.safetensors")));
    assertTrue(Files.exists(work.resolve("out/merged/tokenizer.json")));
    // the store keeps only the latest and the best checkpoints
    List<Integer> kept =
        new CheckpointStore(
                new org.apache.hadoop.fs.Path(work.resolve("ckpt").toUri()), new Configuration())
            .steps();
    assertTrue(
        kept.contains(8) && kept.contains(r.bestStep()) && kept.size() <= 2, kept.toString());
    assertEquals(r.bestStep(), r.outputStep(), "load-best writes the best checkpoint's adapter");
    // the merged model loads and differs from the base
    try (LoadedDecoder merged =
            DecoderLoader.load(
                work.resolve("out/merged"), Device.cpu(), ai.djl.ndarray.types.DataType.FLOAT32);
        LoadedDecoder base =
            DecoderLoader.load(model, Device.cpu(), ai.djl.ndarray.types.DataType.FLOAT32)) {
      String w = "model.layers.0.self_attn.q_proj.weight";
      float[] a = merged.model().weight(w).toFloatArray();
      float[] b = base.model().weight(w).toFloatArray();
      double diff = 0;
      for (int i = 0; i < a.length; i++) {
        diff += Math.abs(a[i] - b[i]);
      }
      assertTrue(diff > 0, "LoRA was merged into q_proj");
    }
  }

  @Test
  void aKilledRunResumesFromItsLastCheckpointAndEndsWithTheSameWeights() throws Exception {
    FinetuneSettings s =
        settings(
            TRAIN
                + ", batching = padding, max-length = 64, load-best = false, gradient-accumulation = 2");
    FinetuneRunner.Result whole = run(s, dir.resolve("whole"), (step, total) -> {});
    class Killed extends RuntimeException {}
    assertThrows(
        Killed.class,
        () ->
            run(
                s,
                dir.resolve("killed"),
                (step, total) -> {
                  if (step == 5) {
                    throw new Killed();
                  }
                }));
    FinetuneRunner.Result resumed = run(s, dir.resolve("killed"), (step, total) -> {});
    assertEquals(
        3, resumed.resumedFrom(), "the latest checkpoint before the kill at step 5 is step 3");
    assertEquals(whole.steps(), resumed.steps());
    ModelConfig c = ModelConfig.load(model);
    LoraAdapter a = PeftAdapters.load(dir.resolve("whole/out/adapter"), c);
    LoraAdapter b = PeftAdapters.load(dir.resolve("killed/out/adapter"), c);
    for (String key : a.factors().keySet()) {
      assertArrayEquals(a.factors().get(key).a(), b.factors().get(key).a(), key + " A");
      assertArrayEquals(a.factors().get(key).b(), b.factors().get(key).b(), key + " B");
    }
    assertEquals(whole.finalEvalLoss(), resumed.finalEvalLoss(), 0.0);
    assertEquals(
        whole.initialEvalLoss(),
        resumed.initialEvalLoss(),
        0.0,
        "the history travels with the checkpoint");
  }

  @Test
  void trainsOnAThreadOtherThanTheOneThatLoadedTheEngine() throws Exception {
    // libtorch's grad mode is per thread and on by default (Spark runs tasks on pool threads)
    FinetuneSettings s =
        settings(
            "max-steps = 2, batch-size = 4, checkpoint-every = 2, eval-fraction = 0.25, "
                + "lora { rank = 2, alpha = 4 }, batching = packed, max-length = 96");
    java.util.concurrent.atomic.AtomicReference<Object> result =
        new java.util.concurrent.atomic.AtomicReference<>();
    Thread t =
        new Thread(
            () -> {
              try {
                ai.djl.pytorch.jni.JniUtils.setGradMode(true);
                result.set(run(s, dir.resolve("thread"), (step, total) -> {}));
              } catch (Throwable e) {
                result.set(e);
              }
            });
    t.start();
    t.join();
    assertTrue(result.get() instanceof FinetuneRunner.Result, String.valueOf(result.get()));
    assertEquals(2, ((FinetuneRunner.Result) result.get()).steps());
  }

  @Test
  void evalSplitIsSeededAndKeepsATrainingRow() {
    boolean[] a = FinetuneRunner.evalMask(20, 0.1, 3);
    assertArrayEquals(a, FinetuneRunner.evalMask(20, 0.1, 3));
    int n = 0;
    for (boolean b : a) {
      n += b ? 1 : 0;
    }
    assertEquals(2, n);
    assertEquals(1, count(FinetuneRunner.evalMask(2, 0.9, 1)));
    assertEquals(0, count(FinetuneRunner.evalMask(5, 0.0, 1)));
  }

  @Test
  void badSettingsFailAtStartWithTheKey() {
    var e =
        assertThrows(
            dev.editforge.config.SettingsException.class, () -> settings("batching = zigzag"));
    assertTrue(e.getMessage().contains("batching"), e.getMessage());
    assertThrows(
        dev.editforge.config.SettingsException.class, () -> settings("epochs = 0, max-steps = 0"));
    assertThrows(
        dev.editforge.config.SettingsException.class, () -> settings("lora.targets = [qq_proj]"));
    assertEquals(Batching.Mode.BFD, settings("batching = bfd").batching());
    assertEquals(null, settings("chat-template = none").templateOrNull());
  }

  static int count(boolean[] m) {
    int n = 0;
    for (boolean b : m) {
      n += b ? 1 : 0;
    }
    return n;
  }
}
