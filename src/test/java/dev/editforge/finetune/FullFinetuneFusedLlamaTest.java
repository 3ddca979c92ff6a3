package dev.editforge.finetune;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import dev.editforge.llm.DecoderInput;
import dev.editforge.llm.DecoderModel;
import dev.editforge.llm.TinyModels;
import dev.editforge.lora.Batching;
import dev.editforge.lora.TokenizedSample;
import dev.editforge.lora.TrainSettings;
import java.nio.FloatBuffer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Full fine-tuning of a Llama loaded with fused q/k/v and gate/up weights: the per-projection views
 * train (gradients reach them), and the fused forward afterwards computes with the trained values.
 */
class FullFinetuneFusedLlamaTest {
  @TempDir Path dir;

  @Test
  void viewsOfFusedWeightsTrainAndTheFusedForwardSeesTheUpdates() {
    Engine.getEngine("PyTorch");
    JniUtils.setNumThreads(1);
    Path model = TinyModels.llama(dir.resolve("llama"), TinyModels.Size.TINY, 8);
    SplittableRandom rng = new SplittableRandom(4);
    List<TokenizedSample> samples = new ArrayList<>();
    for (int i = 0; i < 6; i++) {
      int[] ids = new int[6 + rng.nextInt(6)];
      for (int t = 0; t < ids.length; t++) {
        ids[t] = 1 + rng.nextInt(200);
      }
      samples.add(new TokenizedSample(ids, ids.clone()));
    }
    List<Batching.Row> data = Batching.plan(samples, Batching.Mode.PADDING, 32).rows();
    TrainSettings settings =
        TrainSettings.defaults()
            .withMaxSteps(3)
            .withBatching(2, 1)
            .withLearningRate(3e-3)
            .withOptimizer(0.9, 0.999, 1e-8, 0.0, 1.0);
    try (DecoderModel fused = DecoderModel.load(model, Device.cpu(), DataType.FLOAT32);
        DecoderModel plain = DecoderModel.load(model, Device.cpu(), DataType.FLOAT32, false);
        NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
      assertTrue(fused.fused());
      Map<String, float[]> before = new LinkedHashMap<>();
      fused.weights().forEach((k, v) -> before.put(k, v.toFloatArray()));
      try (FullTrainer t = new FullTrainer(fused, data, settings, 11, 0)) {
        while (t.step()) {
          // train
        }
      }
      for (Map.Entry<String, float[]> e : before.entrySet()) {
        float[] after = fused.weight(e.getKey()).toFloatArray();
        assertFalse(Arrays.equals(e.getValue(), after), e.getKey() + " was trained");
        plain.weight(e.getKey()).set(FloatBuffer.wrap(after));
      }
      // Frozen again, the model runs its fused weights: they must hold what the views learned.
      assertFalse(fused.weight(before.keySet().iterator().next()).hasGradient());
      var ids = m.create(new long[] {3, 9, 27, 81, 5}, new Shape(1, 5));
      float[] a = fused.forward(DecoderInput.training(ids, null)).toFloatArray();
      float[] b = plain.forward(DecoderInput.training(ids, null)).toFloatArray();
      float max = 0;
      for (int i = 0; i < a.length; i++) {
        max = Math.max(max, Math.abs(a[i] - b[i]));
      }
      assertTrue(max < 1e-5f, "fused forward after training differs by " + max);
    }
  }
}
