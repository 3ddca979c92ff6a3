package dev.editforge.lora;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import java.util.ArrayList;
import java.util.List;
import java.util.SplittableRandom;

final class LoraTestSupport {
  private LoraTestSupport() {}

  /** One libtorch thread: tiny models on a shared machine run fastest so. */
  static void oneEngineThread() {
    Engine.getEngine("PyTorch");
    JniUtils.setNumThreads(1);
  }

  /** {@code count} random samples of 4..maxLen tokens from ids 3..vocab-1, all tokens labels. */
  static List<TrainSample> samples(long seed, int count, int maxLen, int vocab) {
    SplittableRandom rng = new SplittableRandom(seed);
    List<TrainSample> out = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      int[] ids = new int[4 + rng.nextInt(maxLen - 3)];
      for (int t = 0; t < ids.length; t++) {
        ids[t] = 3 + rng.nextInt(vocab - 3);
      }
      out.add(TrainSample.causal(ids));
    }
    return out;
  }

  static float maxAbsDiff(float[] x, float[] y) {
    float m = 0;
    for (int i = 0; i < x.length; i++) {
      m = Math.max(m, Math.abs(x[i] - y[i]));
    }
    return m;
  }

  static float maxAbs(float[] x) {
    float m = 0;
    for (float v : x) {
      m = Math.max(m, Math.abs(v));
    }
    return m;
  }
}
