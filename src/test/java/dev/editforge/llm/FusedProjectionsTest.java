package dev.editforge.llm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Fused q/k/v and gate/up weights compute what the per-projection weights compute, and the
 * per-projection weights {@link DecoderModel#weights()} exposes are views into the fused ones.
 */
class FusedProjectionsTest {
  @TempDir Path dir;

  private static NDArray ids(NDManager m, long... seq) {
    return m.create(seq, new Shape(1, seq.length));
  }

  private static float maxAbsDiff(float[] a, float[] b) {
    assertEquals(a.length, b.length);
    float max = 0;
    for (int i = 0; i < a.length; i++) {
      max = Math.max(max, Math.abs(a[i] - b[i]));
    }
    return max;
  }

  /** A LoRA-like delta on every Llama projection, different per module. */
  private static ProjectionDelta delta(NDManager m, ModelConfig c) {
    return (layer, module, x) -> {
      Projection p = Projection.byKey(module);
      NDArray a =
          m.randomNormal(
              0, 0.1f, new Shape(2, p.inFeatures(c)), DataType.FLOAT32); // fixed per call below
      NDArray b = m.randomNormal(0, 0.1f, new Shape(p.outFeatures(c), 2), DataType.FLOAT32);
      return x.matMul(a.transpose()).matMul(b.transpose());
    };
  }

  @Test
  void fusedLogitsEqualUnfusedOnesWithAndWithoutDeltaAndCache() {
    LlmTestSupport.oneEngineThread();
    Path qwenDir = TinyModels.qwen2(dir.resolve("qwen"), TinyModels.Size.TINY, 5);
    Path llamaDir = TinyModels.llama(dir.resolve("llama"), TinyModels.Size.TINY, 6);
    for (Path model : List.of(qwenDir, llamaDir)) {
      try (DecoderModel fused = DecoderModel.load(model, Device.cpu(), DataType.FLOAT32, true);
          DecoderModel plain = DecoderModel.load(model, Device.cpu(), DataType.FLOAT32, false);
          NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
        assertTrue(fused.fused());
        assertFalse(plain.fused());
        long[] seq = {5, 17, 42, 99, 3, 250, 7};
        float[] a = fused.forward(DecoderInput.training(ids(m, seq), null)).toFloatArray();
        float[] b = plain.forward(DecoderInput.training(ids(m, seq), null)).toFloatArray();
        assertTrue(maxAbsDiff(a, b) < 1e-5f, model + ": " + maxAbsDiff(a, b));

        // The same random delta on both (same engine seed before each forward).
        ai.djl.engine.Engine.getEngine("PyTorch").setRandomSeed(3);
        float[] da =
            fused
                .forward(
                    DecoderInput.training(ids(m, seq), null).withDelta(delta(m, fused.config())))
                .toFloatArray();
        ai.djl.engine.Engine.getEngine("PyTorch").setRandomSeed(3);
        float[] db =
            plain
                .forward(
                    DecoderInput.training(ids(m, seq), null).withDelta(delta(m, plain.config())))
                .toFloatArray();
        assertTrue(maxAbsDiff(da, db) < 1e-5f, "with delta: " + maxAbsDiff(da, db));
        assertTrue(maxAbsDiff(a, da) > 1e-3f, "the delta changes the logits");

        List<List<Integer>> greedyFused =
            LocalGenerator.greedyIds(
                fused, List.of(new int[] {5, 17, 42}), 12, java.util.Set.of(), null);
        List<List<Integer>> greedyPlain =
            LocalGenerator.greedyIds(
                plain, List.of(new int[] {5, 17, 42}), 12, java.util.Set.of(), null);
        assertEquals(greedyPlain, greedyFused);
      }
    }
  }

  @Test
  void projectionWeightsAreViewsOfTheFusedWeights() {
    LlmTestSupport.oneEngineThread();
    Path model = TinyModels.qwen2(dir.resolve("qwen"), TinyModels.Size.TINY, 5);
    try (DecoderModel fused = DecoderModel.load(model, Device.cpu(), DataType.FLOAT32, true);
        DecoderModel plain = DecoderModel.load(model, Device.cpu(), DataType.FLOAT32, false);
        NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
      assertEquals(
          new ArrayList<>(plain.weights().keySet()), new ArrayList<>(fused.weights().keySet()));
      for (String name : plain.weights().keySet()) {
        assertArrayEquals(
            plain.weight(name).toFloatArray(), fused.weight(name).toFloatArray(), 0f, name);
        assertEquals(plain.weight(name).getShape(), fused.weight(name).getShape(), name);
      }
      // Views add no memory: what the model holds equals the bytes its weights() name.
      assertEquals(plain.weightBytes(), fused.weightBytes());
      assertEquals(fused.weightBytes(), fused.residentWeightBytes());
      assertEquals(plain.weightBytes(), plain.residentWeightBytes());

      // A write through the view reaches the fused weight the forward reads.
      String k = Projection.K_PROJ.weightName(1);
      String up = Projection.UP_PROJ.weightName(0);
      String vBias = Projection.V_PROJ.biasName(0);
      for (DecoderModel d : new DecoderModel[] {fused, plain}) {
        d.weight(k).muli(0.5f);
        d.weight(up).muli(-1f);
        d.weight(vBias).addi(1f);
      }
      long[] seq = {3, 9, 27, 81};
      float[] a = fused.forward(DecoderInput.training(ids(m, seq), null)).toFloatArray();
      float[] b = plain.forward(DecoderInput.training(ids(m, seq), null)).toFloatArray();
      assertTrue(maxAbsDiff(a, b) < 1e-5f, "shared storage: " + maxAbsDiff(a, b));
    }
  }
}
