package dev.editforge.lora;

import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.editforge.llm.DecoderInput;
import dev.editforge.llm.DecoderModel;
import dev.editforge.llm.TinyModels;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The continual experiment merges one adapter per step into the model that trained it. Merging A
 * and then B must equal applying A and then B to the base: the weights of the twice-merged model
 * are {@code W + s_A B_A A_A + s_B B_B A_B}, and its logits are those of the once-merged model run
 * with B as a live adapter.
 */
class LoraMergeSequenceTest {
  @TempDir Path dir;

  private static LoraAdapter random(DecoderModel model, LoraConfig config, long seed) {
    LoraAdapter init = LoraAdapter.initialize(model.config(), config, seed);
    SplittableRandom rng = new SplittableRandom(seed + 1);
    Map<String, LoraAdapter.Factors> f = new LinkedHashMap<>();
    for (LoraAdapter.Factors x : init.factors().values()) {
      float[] b = new float[x.b().length];
      for (int i = 0; i < b.length; i++) {
        b[i] = (float) (rng.nextGaussian() * 0.05);
      }
      f.put(x.target().key(), new LoraAdapter.Factors(x.target(), x.a(), b));
    }
    return new LoraAdapter(config, f);
  }

  private static float[] logits(DecoderModel model, LoraStack stack, long[] ids) {
    try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
      DecoderInput input = DecoderInput.training(m.create(ids, new Shape(1, ids.length)), null);
      if (stack != null) {
        input = input.withDelta(stack.delta(m, new int[] {0}, 1));
      }
      return model.forward(input).toFloatArray();
    }
  }

  /** {@code W + scale * B A} for one target, in plain Java floats (row-major [out, in]). */
  private static void addDelta(float[] w, LoraAdapter.Factors f, double scale, int r) {
    int out = f.target().out();
    int in = f.target().in();
    for (int o = 0; o < out; o++) {
      for (int i = 0; i < in; i++) {
        double s = 0;
        for (int k = 0; k < r; k++) {
          s += (double) f.b()[o * r + k] * f.a()[k * in + i];
        }
        w[o * in + i] += (float) (scale * s);
      }
    }
  }

  @Test
  void mergingAThenBEqualsTheBaseWithAAppliedThenB() {
    LoraTestSupport.oneEngineThread();
    Path basePath = TinyModels.qwen2(dir.resolve("base"), TinyModels.Size.TINY, 17);
    LoraConfig ca = new LoraConfig(4, 8, 0, List.of("q_proj", "v_proj"));
    LoraConfig cb = new LoraConfig(2, 6, 0, List.of("q_proj", "o_proj"));
    long[] ids = {3, 14, 15, 9, 26, 53, 5};
    try (DecoderModel base = DecoderModel.load(basePath, Device.cpu(), DataType.FLOAT32)) {
      LoraAdapter a = random(base, ca, 21);
      LoraAdapter b = random(base, cb, 22);
      LoraMerge.saveMerged(base, a, dir.resolve("a"));
      try (DecoderModel withA =
          DecoderModel.load(dir.resolve("a"), Device.cpu(), DataType.FLOAT32)) {
        LoraMerge.saveMerged(withA, b, dir.resolve("ab"));
        float[] aThenBLive;
        try (LoraStack s = LoraStack.of(List.of(b), Device.cpu())) {
          aThenBLive = logits(withA, s, ids);
        }
        try (DecoderModel ab =
            DecoderModel.load(dir.resolve("ab"), Device.cpu(), DataType.FLOAT32)) {
          float[] merged = logits(ab, null, ids);
          float diff = LoraTestSupport.maxAbsDiff(aThenBLive, merged);
          assertTrue(diff < 1e-4, "merge(merge(W, A), B) = (W + A) with B applied: " + diff);
          assertTrue(
              LoraTestSupport.maxAbsDiff(logits(withA, null, ids), merged) > 1e-3,
              "B changes the logits");

          // weights: every target of A and of B (q_proj in both) adds up exactly
          for (Map.Entry<String, NDArray> e : base.weights().entrySet()) {
            float[] expected = e.getValue().toType(DataType.FLOAT32, false).toFloatArray();
            for (LoraAdapter ad : List.of(a, b)) {
              for (LoraAdapter.Factors f : ad.factors().values()) {
                if (f.target().projection().weightName(f.target().layer()).equals(e.getKey())) {
                  addDelta(expected, f, ad.config().scaling(), ad.config().rank());
                }
              }
            }
            float[] got = ab.weights().get(e.getKey()).toFloatArray();
            float d = LoraTestSupport.maxAbsDiff(expected, got);
            assertTrue(d < 1e-5, e.getKey() + ": merged A then B differs by " + d);
          }
        }
      }
    }
  }
}
