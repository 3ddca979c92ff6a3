package dev.editforge.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.editforge.llm.DecoderInput;
import dev.editforge.llm.DecoderLayout;
import dev.editforge.llm.DecoderLoader;
import dev.editforge.llm.LoadedDecoder;
import dev.editforge.llm.ModelConfig;
import dev.editforge.llm.TinyModels;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Trainable token rows in a {@link LoraStack}: each batch group reads its own adapter's rows, and
 * training moves only the rows that get gradients, never the frozen model. Rows here are for ids
 * 10..14 of a tiny untied model (what they were added for does not matter to the stack).
 */
class TrainableTokensStackTest {
  @TempDir static Path dir;
  static LoadedDecoder dec;
  static final int START = 10;
  static final int COUNT = 5;

  @BeforeAll
  static void load() {
    LoraTestSupport.oneEngineThread();
    Path p = TinyModels.qwen2(dir.resolve("m"), TinyModels.Size.TINY, 5);
    dec = DecoderLoader.load(p, Device.cpu(), DataType.FLOAT32);
  }

  static LoraAdapter adapter(long seed) {
    ModelConfig c = dec.model().config();
    LoraAdapter a = LoraAdapter.initialize(c, new LoraConfig(2, 4, 0.0, List.of("q_proj")), seed);
    SplittableRandom rng = new SplittableRandom(seed);
    float[] embed = new float[COUNT * c.hiddenSize()];
    float[] head = new float[COUNT * c.hiddenSize()];
    for (int i = 0; i < embed.length; i++) {
      embed[i] = (float) rng.nextGaussian();
      head[i] = (float) rng.nextGaussian();
    }
    return a.withTrainableTokens(new TrainableTokens(START, COUNT, c.hiddenSize(), embed, head));
  }

  static float[] logits(LoraStack stack, int[] groups, long[] ids, int rowsPerGroup) {
    try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
      int rows = groups.length * rowsPerGroup;
      NDArray in = m.create(ids, new Shape(rows, ids.length / rows));
      return dec.model()
          .forward(DecoderInput.training(in, null).withDelta(stack.delta(m, groups, rowsPerGroup)))
          .toFloatArray();
    }
  }

  @Test
  void eachGroupReadsItsOwnAdaptersRows() {
    LoraAdapter a0 = adapter(1);
    LoraAdapter a1 = adapter(2);
    long[] row = {3, START, 20, START + 4, 7, START + 2};
    long[] both = new long[row.length * 2];
    System.arraycopy(row, 0, both, 0, row.length);
    System.arraycopy(row, 0, both, row.length, row.length);
    float[] alone0;
    float[] alone1;
    try (LoraStack s0 = LoraStack.of(List.of(a0), Device.cpu());
        LoraStack s1 = LoraStack.of(List.of(a1), Device.cpu())) {
      alone0 = logits(s0, new int[] {0}, row, 1);
      alone1 = logits(s1, new int[] {0}, row, 1);
    }
    try (LoraStack s = LoraStack.of(List.of(a0, a1), Device.cpu())) {
      // groups in reverse order: the index gather picks adapter 1's rows for the first row
      float[] batched = logits(s, new int[] {1, 0}, both, 1);
      int n = alone0.length;
      float[] first = java.util.Arrays.copyOfRange(batched, 0, n);
      float[] second = java.util.Arrays.copyOfRange(batched, n, 2 * n);
      assertTrue(LoraTestSupport.maxAbsDiff(alone1, first) < 1e-4);
      assertTrue(LoraTestSupport.maxAbsDiff(alone0, second) < 1e-4);
      assertTrue(LoraTestSupport.maxAbsDiff(alone0, alone1) > 1e-2, "the adapters differ");
      // and the rows come back out of the stack unchanged
      assertEquals(a1.trainableTokens(), s.adapter(1).trainableTokens());
    }
  }

  @Test
  void aDecodeBatchMixingBaseRowsGivesTheTokenRowsToAdaptedRowsOnly() {
    LoraAdapter a = adapter(4);
    long[] row = {3, START + 1, 20, START + 3};
    long[] both = new long[row.length * 2];
    System.arraycopy(row, 0, both, 0, row.length);
    System.arraycopy(row, 0, both, row.length, row.length);
    try (LoraStack s = LoraStack.of(List.of(a), Device.cpu());
        NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
      float[] adapted = logits(s, new int[] {0}, row, 1);
      float[] base =
          dec.model()
              .forward(DecoderInput.training(m.create(row, new Shape(1, row.length)), null))
              .toFloatArray();
      // request 0 uses adapter 0, request 1 the base model; the batch holds request 1 then 0
      float[] mixed =
          dec.model()
              .forward(
                  DecoderInput.training(m.create(both, new Shape(2, row.length)), null)
                      .withDelta(s.batchDelta(new int[] {0, -1}).forBatch(new int[] {1, 0})))
              .toFloatArray();
      int n = base.length;
      assertTrue(
          LoraTestSupport.maxAbsDiff(base, java.util.Arrays.copyOfRange(mixed, 0, n)) < 1e-4);
      assertTrue(
          LoraTestSupport.maxAbsDiff(adapted, java.util.Arrays.copyOfRange(mixed, n, 2 * n))
              < 1e-4);
      assertTrue(LoraTestSupport.maxAbsDiff(base, adapted) > 1e-2);
    }
  }

  @Test
  void trainingMovesTheRowsThatGetGradientsAndResumesFromACheckpoint() throws Exception {
    LoraAdapter init = adapter(3);
    float[] frozenBefore = dec.model().weight(DecoderLayout.EMBED).toFloatArray();
    List<TrainSample> data = new ArrayList<>();
    // ids START and START+1 appear as inputs; START+2..START+4 never do
    for (int i = 0; i < 6; i++) {
      data.add(TrainSample.causal(new int[] {3 + i, START, 20, START + 1, 7 + i, 30}));
    }
    TrainSettings ts =
        TrainSettings.defaults().withMaxSteps(6).withBatching(2, 1).withLearningRate(0.05);
    Path ckpt = dir.resolve("ckpt");
    LoraAdapter after3;
    LoraAdapter whole;
    try (LoraStack stack = LoraStack.of(List.of(init), Device.cpu());
        LoraTrainer trainer =
            new LoraTrainer(dec.model(), stack, List.of(data), ts, new long[] {9}, 0)) {
      for (int i = 0; i < 3; i++) {
        trainer.step();
      }
      trainer.saveCheckpoint(ckpt, "tiny");
      after3 = stack.adapter(0);
      trainer.train();
      whole = stack.adapter(0);
    }
    int h = init.trainableTokens().hidden();
    TrainableTokens before = init.trainableTokens();
    TrainableTokens trained = whole.trainableTokens();
    assertTrue(rowDiff(before.embed(), trained.embed(), 0, h) > 1e-3, "an input row moved");
    assertTrue(rowDiff(before.embed(), trained.embed(), 1, h) > 1e-3);
    assertEquals(0.0, rowDiff(before.embed(), trained.embed(), 3, h), "no input, no gradient");
    assertTrue(rowDiff(before.head(), trained.head(), 3, h) > 1e-3, "every output row is scored");
    assertArrayEquals(frozenBefore, dec.model().weight(DecoderLayout.EMBED).toFloatArray());

    LoraTrainer resumed = LoraTrainer.resume(dec.model(), ckpt, List.of(data), ts);
    try (LoraStack owned = resumed.stack()) {
      try (resumed) {
        assertEquals(after3.trainableTokens(), owned.adapter(0).trainableTokens());
        resumed.train();
        TrainableTokens again = owned.adapter(0).trainableTokens();
        assertTrue(
            LoraTestSupport.maxAbsDiff(trained.embed(), again.embed()) < 1e-5,
            "a resumed run ends with the same rows");
      }
    }
  }

  static double rowDiff(float[] a, float[] b, int row, int h) {
    double d = 0;
    for (int c = 0; c < h; c++) {
      d += Math.abs(a[row * h + c] - b[row * h + c]);
    }
    return d;
  }
}
