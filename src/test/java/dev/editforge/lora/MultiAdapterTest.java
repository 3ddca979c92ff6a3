package dev.editforge.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import dev.editforge.llm.DecoderModel;
import dev.editforge.llm.TinyModels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * N adapters trained in one batched loop equal each trained alone; batched generation with a
 * different adapter per row group equals one adapter at a time; checkpoints resume exactly.
 *
 * <p>Two trainers on two threads at once give exactly what they give one after the other.
 *
 * <p>Tolerance: factors agree to 2e-5 absolute (they are O(0.1)): batched and single matmuls may
 * round differently in the last bits.
 */
class MultiAdapterTest {
  static final float TOLERANCE = 2e-5f;
  @TempDir static Path dir;
  static DecoderModel model;

  @BeforeAll
  static void load() {
    LoraTestSupport.oneEngineThread();
    model =
        DecoderModel.load(
            TinyModels.llama(dir.resolve("llama"), TinyModels.Size.TINY, 3),
            Device.cpu(),
            DataType.FLOAT32);
  }

  @AfterAll
  static void close() {
    model.close();
  }

  private static List<LoraAdapter> train(
      List<LoraAdapter> init, List<List<TrainSample>> data, TrainSettings s, long[] seeds) {
    return train(init, data, s, seeds, null);
  }

  private static List<LoraAdapter> train(
      List<LoraAdapter> init,
      List<List<TrainSample>> data,
      TrainSettings s,
      long[] seeds,
      Runnable beforeBackward) {
    try (LoraStack stack = LoraStack.of(init, Device.cpu());
        LoraTrainer t = new LoraTrainer(model, stack, data, s, seeds, 0, beforeBackward)) {
      t.train();
      List<LoraAdapter> out = new ArrayList<>();
      for (int k = 0; k < init.size(); k++) {
        out.add(stack.adapter(k));
      }
      return out;
    }
  }

  private static void assertSame(LoraAdapter x, LoraAdapter y, float tol, String what) {
    for (String k : x.factors().keySet()) {
      float da = LoraTestSupport.maxAbsDiff(x.factors().get(k).a(), y.factors().get(k).a());
      float db = LoraTestSupport.maxAbsDiff(x.factors().get(k).b(), y.factors().get(k).b());
      assertTrue(da <= tol && db <= tol, what + " " + k + ": A differs by " + da + ", B by " + db);
    }
  }

  private static void checkEquivalence(LoraConfig config, TrainSettings s) {
    // Different sample counts and lengths: the adapters take different numbers of steps, with
    // different schedules, and sit out once finished.
    List<List<TrainSample>> data =
        List.of(
            LoraTestSupport.samples(1, 3, 12, 250),
            LoraTestSupport.samples(2, 5, 7, 250),
            LoraTestSupport.samples(3, 2, 16, 250));
    long[] seeds = {101, 202, 303};
    List<LoraAdapter> init = new ArrayList<>();
    for (int k = 0; k < 3; k++) {
      init.add(LoraAdapter.initialize(model.config(), config, seeds[k]));
    }
    List<LoraAdapter> together = train(init, data, s, seeds);
    for (int k = 0; k < 3; k++) {
      LoraAdapter alone =
          train(List.of(init.get(k)), List.of(data.get(k)), s, new long[] {seeds[k]}).get(0);
      float moved =
          LoraTestSupport.maxAbsDiff(
              alone.factors().get("0.q_proj").b(), init.get(k).factors().get("0.q_proj").b());
      assertTrue(
          moved > 1e-3,
          "adapter "
              + k
              + " was trained: moved "
              + moved
              + " together "
              + LoraTestSupport.maxAbs(together.get(k).factors().get("0.q_proj").b()));
      assertSame(together.get(k), alone, TOLERANCE, "adapter " + k);
    }
  }

  @Test
  void adaptersTrainedTogetherEqualEachTrainedAlone() {
    checkEquivalence(
        new LoraConfig(4, 8, 0, List.of("q_proj", "v_proj")),
        TrainSettings.defaults()
            .withEpochs(3)
            .withLearningRate(5e-3)
            .withPadding(32, TrainSettings.PadTo.LONGEST, false));
  }

  @Test
  void equivalenceHoldsWithBatchesAccumulationPaddingLabelsDropoutDecayAndCosine() {
    checkEquivalence(
        new LoraConfig(2, 4, 0.1, List.of("all-linear")),
        TrainSettings.defaults()
            .withEpochs(2)
            .withLearningRate(5e-3)
            .withBatching(2, 2)
            .withPadding(12, TrainSettings.PadTo.LONGEST, true)
            .withSchedule(TrainSettings.Schedule.COSINE, 1)
            .withOptimizer(0.9, 0.99, 1e-6, 0.01, 0.5));
  }

  @Test
  void batchedGenerationWithOneAdapterPerGroupEqualsOneAdapterAtATime() {
    LoraConfig config = new LoraConfig(4, 8, 0, List.of("q_proj", "v_proj", "o_proj"));
    // Strong random adapters (B nonzero, as after training) so each visibly changes the greedy
    // text.
    List<LoraAdapter> trained = new ArrayList<>();
    for (int k = 0; k < 3; k++) {
      LoraAdapter init = LoraAdapter.initialize(model.config(), config, 7 + k);
      java.util.SplittableRandom rng = new java.util.SplittableRandom(70 + k);
      java.util.Map<String, LoraAdapter.Factors> f = new java.util.LinkedHashMap<>();
      for (LoraAdapter.Factors x : init.factors().values()) {
        float[] b = new float[x.b().length];
        for (int i = 0; i < b.length; i++) {
          b[i] = (float) (rng.nextGaussian() * 0.5);
        }
        f.put(x.target().key(), new LoraAdapter.Factors(x.target(), x.a(), b));
      }
      trained.add(new LoraAdapter(config, f));
    }
    List<int[]> prompts =
        List.of(new int[] {5, 6, 7}, new int[] {40, 41, 42, 43, 44, 45}, new int[] {100});
    Set<Integer> stop = Set.of(1);
    int[][][] together;
    try (LoraStack s = LoraStack.of(trained, Device.cpu())) {
      together = LoraGenerator.greedy(model, s, new int[] {0, 1, 2}, prompts, 12, stop);
      // A subset in another order uses the gathered factors.
      int[][][] reordered = LoraGenerator.greedy(model, s, new int[] {2, 0}, prompts, 12, stop);
      for (int p = 0; p < prompts.size(); p++) {
        assertArrayEquals(together[2][p], reordered[0][p]);
        assertArrayEquals(together[0][p], reordered[1][p]);
      }
    }
    int[][][] base = LoraGenerator.greedy(model, null, new int[] {0}, prompts, 12, stop);
    boolean anyDiffers = false;
    for (int k = 0; k < 3; k++) {
      try (LoraStack s = LoraStack.of(List.of(trained.get(k)), Device.cpu())) {
        int[][][] alone = LoraGenerator.greedy(model, s, new int[] {0}, prompts, 12, stop);
        for (int p = 0; p < prompts.size(); p++) {
          assertArrayEquals(alone[0][p], together[k][p], "adapter " + k + " prompt " + p);
          anyDiffers |= !java.util.Arrays.equals(alone[0][p], base[0][p]);
        }
      }
    }
    assertTrue(anyDiffers, "the adapters change what the model generates");

    // The llm runtime's LocalGenerator with one adapter (or none) per request, batched as it likes.
    try (dev.editforge.llm.LoadedDecoder d =
            dev.editforge.llm.DecoderLoader.load(
                dir.resolve("llama"), Device.cpu(), DataType.FLOAT32);
        LoraStack s = LoraStack.of(trained, Device.cpu())) {
      dev.editforge.llm.LocalGenerator gen =
          new dev.editforge.llm.LocalGenerator(d, dev.editforge.llm.LlmSettings.defaults(), false);
      List<dev.editforge.llm.GenerationRequest> requests = new ArrayList<>();
      int[] adapterOf = {2, -1, 0, 1};
      String[] texts = {"the rain", "in the", "the rain", "on a hill"};
      for (int i = 0; i < texts.length; i++) {
        requests.add(
            dev.editforge.llm.GenerationRequest.text(
                "r" + i, texts[i], dev.editforge.llm.SamplingParams.greedy(8)));
      }
      List<dev.editforge.llm.GenerationResult> viaRuntime =
          gen.generate(requests, s.batchDelta(adapterOf));
      for (int i = 0; i < texts.length; i++) {
        int[] prompt = d.tokenizer().encode(texts[i]);
        int[][][] expected =
            adapterOf[i] < 0
                ? LoraGenerator.greedy(
                    d.model(), null, new int[] {0}, List.of(prompt), 8, d.eosTokenIds())
                : LoraGenerator.greedy(
                    d.model(), s, new int[] {adapterOf[i]}, List.of(prompt), 8, d.eosTokenIds());
        List<Integer> got = viaRuntime.get(i).completions().get(0).tokenIds();
        int[] gotIds =
            got.stream()
                .filter(t -> !d.eosTokenIds().contains(t))
                .mapToInt(Integer::intValue)
                .toArray();
        assertArrayEquals(expected[0][0], gotIds, "request " + i);
      }
    }
  }

  @Test
  void aPackedSampleTrainsLikeItsDocumentsAsSeparateRows() {
    LoraConfig config = new LoraConfig(4, 8, 0, List.of("q_proj", "v_proj", "up_proj"));
    List<TrainSample> docs = LoraTestSupport.samples(31, 3, 9, 250);
    TrainSample packed =
        TrainSample.packed(docs.stream().map(TrainSample::inputIds).toList(), null);
    // One optimizer step over all three documents either way (no shuffle effect: one micro-batch).
    TrainSettings s =
        TrainSettings.defaults()
            .withMaxSteps(2)
            .withLearningRate(1e-2)
            .withPadding(64, TrainSettings.PadTo.LONGEST, false);
    LoraAdapter init = LoraAdapter.initialize(model.config(), config, 5);
    LoraAdapter asRows =
        train(List.of(init), List.of(docs), s.withBatching(3, 1), new long[] {5}).get(0);
    LoraAdapter asPacked =
        train(List.of(init), List.of(List.of(packed)), s.withBatching(1, 1), new long[] {5}).get(0);
    assertTrue(LoraTestSupport.maxAbs(asRows.factors().get("0.up_proj").b()) > 1e-3, "trained");
    assertSame(asRows, asPacked, TOLERANCE, "packed vs rows");
  }

  @Test
  void sameSeedSameAdapterAndCheckpointResumesExactly() {
    LoraConfig config = new LoraConfig(4, 8, 0.1, List.of("q_proj", "v_proj"));
    List<List<TrainSample>> data = List.of(LoraTestSupport.samples(8, 4, 10, 250));
    TrainSettings s =
        TrainSettings.defaults()
            .withEpochs(3)
            .withLearningRate(5e-3)
            .withPadding(32, TrainSettings.PadTo.LONGEST, false);
    LoraAdapter init = LoraAdapter.initialize(model.config(), config, 77);
    LoraAdapter full = train(List.of(init), data, s, new long[] {77}).get(0);
    // A GC between every forward and backward: tensors that autograd saved must not live in Java
    // memory the JVM may free (DJL's CPU arrays made from Java data do), or this run drifts or
    // NaNs.
    assertSame(
        full, train(List.of(init), data, s, new long[] {77}, System::gc).get(0), 0f, "same seed");
    LoraAdapter other = train(List.of(init), data, s, new long[] {78}).get(0);
    assertTrue(
        LoraTestSupport.maxAbsDiff(
                full.factors().get("0.q_proj").b(), other.factors().get("0.q_proj").b())
            > 0,
        "another seed shuffles and drops out differently");
    Path ckpt = dir.resolve("ckpt");
    try (LoraStack stack = LoraStack.of(List.of(init), Device.cpu());
        LoraTrainer t = new LoraTrainer(model, stack, data, s, new long[] {77}, 0)) {
      for (int i = 0; i < 5; i++) {
        t.step();
      }
      t.saveCheckpoint(ckpt, "tiny");
    }
    LoraTrainer resumed = LoraTrainer.resume(model, ckpt, data, s);
    try (LoraStack stack = resumed.stack();
        resumed) {
      assertEquals(5, resumed.stepsDone(0));
      assertFalse(resumed.done());
      resumed.train();
      assertEquals(12, resumed.stepsDone(0));
      assertSame(full, stack.adapter(0), 0f, "resumed run");
    }
  }

  @Test
  void twoTrainersOnTwoThreadsRunAtOnceAndEqualThemOneAfterTheOther() throws Exception {
    LoraConfig config = new LoraConfig(4, 8, 0.1, List.of("q_proj", "v_proj", "down_proj"));
    TrainSettings s =
        TrainSettings.defaults()
            .withEpochs(2)
            .withLearningRate(5e-3)
            .withPadding(32, TrainSettings.PadTo.LONGEST, false);
    List<List<TrainSample>> dataA =
        List.of(LoraTestSupport.samples(21, 4, 12, 250), LoraTestSupport.samples(22, 3, 9, 250));
    List<List<TrainSample>> dataB = List.of(LoraTestSupport.samples(23, 5, 14, 250));
    List<LoraAdapter> initA =
        List.of(
            LoraAdapter.initialize(model.config(), config, 31),
            LoraAdapter.initialize(model.config(), config, 32));
    List<LoraAdapter> initB = List.of(LoraAdapter.initialize(model.config(), config, 33));
    long[] seedsA = {31, 32};
    long[] seedsB = {33};
    List<LoraAdapter> aloneA = train(initA, dataA, s, seedsA);
    List<LoraAdapter> aloneB = train(initB, dataB, s, seedsB);

    // Both trainers' first forward must be done before either runs its first backward: with a
    // JVM-wide autograd lock (or DJL's one-collector flag) the second never gets there, and the
    // barrier times out. Trainer A also collects garbage between every forward and backward.
    CyclicBarrier bothForwarded = new CyclicBarrier(2);
    AtomicBoolean firstA = new AtomicBoolean(true);
    AtomicBoolean firstB = new AtomicBoolean(true);
    Runnable hookA =
        () -> {
          meet(bothForwarded, firstA);
          System.gc();
        };
    Runnable hookB = () -> meet(bothForwarded, firstB);
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      Future<List<LoraAdapter>> a = pool.submit(() -> train(initA, dataA, s, seedsA, hookA));
      Future<List<LoraAdapter>> b = pool.submit(() -> train(initB, dataB, s, seedsB, hookB));
      List<LoraAdapter> togetherA = a.get(120, TimeUnit.SECONDS);
      List<LoraAdapter> togetherB = b.get(120, TimeUnit.SECONDS);
      assertTrue(LoraTestSupport.maxAbs(togetherA.get(0).factors().get("0.q_proj").b()) > 1e-4);
      for (int k = 0; k < 2; k++) {
        assertSame(aloneA.get(k), togetherA.get(k), 0f, "trainer A adapter " + k);
      }
      assertSame(aloneB.get(0), togetherB.get(0), 0f, "trainer B");
    } finally {
      pool.shutdownNow();
    }
  }

  /** The first call waits (at most a minute) until the other thread's first call arrives. */
  private static void meet(CyclicBarrier barrier, AtomicBoolean first) {
    if (first.getAndSet(false)) {
      try {
        barrier.await(60, TimeUnit.SECONDS);
      } catch (Exception e) {
        throw new IllegalStateException("the other trainer never reached its first backward", e);
      }
    }
  }
}
