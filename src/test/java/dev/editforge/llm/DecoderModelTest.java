package dev.editforge.llm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.training.GradientCollector;
import com.fasterxml.jackson.databind.JsonNode;
import dev.editforge.SharedData;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DecoderModelTest {
  @TempDir static Path dir;
  static DecoderModel llama;
  static DecoderModel qwen;
  static NDManager manager;

  @BeforeAll
  static void load() {
    LlmTestSupport.oneEngineThread();
    llama =
        DecoderModel.load(
            TinyModels.llama(dir.resolve("llama"), TinyModels.Size.TINY, 11),
            Device.cpu(),
            DataType.FLOAT32);
    qwen =
        DecoderModel.load(
            TinyModels.qwen2(dir.resolve("qwen"), TinyModels.Size.TINY, 12),
            Device.cpu(),
            DataType.FLOAT32);
    manager = NDManager.newBaseManager(Device.cpu(), "PyTorch");
  }

  @AfterAll
  static void close() {
    manager.close();
    llama.close();
    qwen.close();
  }

  private static NDArray ids(NDManager m, long[]... rows) {
    long[] flat = new long[rows.length * rows[0].length];
    for (int i = 0; i < rows.length; i++) {
      System.arraycopy(rows[i], 0, flat, i * rows[0].length, rows[0].length);
    }
    return m.create(flat, new Shape(rows.length, rows[0].length));
  }

  private static float maxAbsDiff(float[] a, int aFrom, float[] b, int bFrom, int n) {
    float max = 0;
    for (int i = 0; i < n; i++) {
      max = Math.max(max, Math.abs(a[aFrom + i] - b[bFrom + i]));
    }
    return max;
  }

  @Test
  void stories260KLogitsMatchTheGoldenFloat64Reference() throws IOException {
    Path model = SharedData.require("models/stories260K-hf");
    JsonNode golden = SharedData.json("golden/stories260K.json");
    try (DecoderModel m = DecoderModel.load(model, Device.cpu(), DataType.FLOAT32);
        NDManager s = manager.newSubManager()) {
      float[] logits =
          m.forward(DecoderInput.training(ids(s, new long[] {1, 403}), null)).toFloatArray();
      int vocab = m.config().vocabSize();
      String[] keys = {"logits_pos0_tok1", "logits_pos1_tok403"};
      for (int pos = 0; pos < 2; pos++) {
        JsonNode expected = golden.get(keys[pos]);
        assertEquals(vocab, expected.size());
        for (int i = 0; i < vocab; i++) {
          assertEquals(
              expected.get(i).asDouble(), logits[pos * vocab + i], 1e-4, keys[pos] + " logit " + i);
        }
      }
    }
  }

  @Test
  void cachedDecodingGivesTheSameLogitsAsOneFullForward() {
    for (DecoderModel model : new DecoderModel[] {llama, qwen}) {
      long[] seq = {5, 17, 42, 99, 3, 250, 7, 61, 130, 8};
      int vocab = model.config().vocabSize();
      try (NDManager s = manager.newSubManager()) {
        float[] full = model.forward(DecoderInput.training(ids(s, seq), null)).toFloatArray();
        try (KvCache cache = model.newCache(s, 1, seq.length)) {
          // Prefill 6 tokens, then one at a time.
          float[] prefill =
              model
                  .forward(
                      new DecoderInput(
                          ids(s, java.util.Arrays.copyOf(seq, 6)),
                          null,
                          null,
                          null,
                          cache,
                          null,
                          false))
                  .toFloatArray();
          assertTrue(maxAbsDiff(full, 0, prefill, 0, 6 * vocab) < 1e-4f);
          for (int t = 6; t < seq.length; t++) {
            float[] step =
                model
                    .forward(
                        new DecoderInput(
                            ids(s, new long[] {seq[t]}), null, null, null, cache, null, true))
                    .toFloatArray();
            assertTrue(maxAbsDiff(full, t * vocab, step, 0, vocab) < 1e-4f, "position " + t);
          }
          assertEquals(seq.length, cache.length());
        }
      }
    }
  }

  @Test
  void leftPaddedRowsMatchTheirUnpaddedForward() {
    long[] shortRow = {0, 0, 0, 9, 8, 7};
    long[] mask = {0, 0, 0, 1, 1, 1};
    long[] full = {1, 2, 3, 4, 5, 6};
    int vocab = qwen.config().vocabSize();
    try (NDManager s = manager.newSubManager()) {
      NDArray batch = ids(s, shortRow, full);
      NDArray am = ids(s, mask, new long[] {1, 1, 1, 1, 1, 1});
      float[] batched = qwen.forward(DecoderInput.training(batch, am)).toFloatArray();
      float[] alone =
          qwen.forward(DecoderInput.training(ids(s, new long[] {9, 8, 7}), null)).toFloatArray();
      float[] fullAlone = qwen.forward(DecoderInput.training(ids(s, full), null)).toFloatArray();
      assertTrue(maxAbsDiff(batched, 3 * vocab, alone, 0, 3 * vocab) < 1e-4f);
      assertTrue(maxAbsDiff(batched, 6 * vocab, fullAlone, 0, 6 * vocab) < 1e-4f);
    }
  }

  @Test
  void packedSamplesWithRestartingPositionsAndBlockMaskEqualSeparateForwards() {
    long[] a = {11, 12, 13, 14, 15};
    long[] b = {21, 22, 23, 24};
    int vocab = llama.config().vocabSize();
    try (NDManager s = manager.newSubManager()) {
      float[] alone1 = llama.forward(DecoderInput.training(ids(s, a), null)).toFloatArray();
      float[] alone2 = llama.forward(DecoderInput.training(ids(s, b), null)).toFloatArray();
      long[] packed = {11, 12, 13, 14, 15, 21, 22, 23, 24};
      long[] positions = {0, 1, 2, 3, 4, 0, 1, 2, 3};
      int n = packed.length;
      float[] block = new float[n * n];
      for (int q = 0; q < n; q++) {
        for (int k = 0; k < n; k++) {
          block[q * n + k] = (q < 5) == (k < 5) ? 1 : 0;
        }
      }
      DecoderInput in =
          DecoderInput.training(ids(s, packed), null)
              .withPositionIds(ids(s, positions))
              .withAttendMask(s.create(block, new Shape(1, n, n)));
      float[] out = llama.forward(in).toFloatArray();
      assertTrue(maxAbsDiff(out, 0, alone1, 0, 5 * vocab) < 1e-4f);
      assertTrue(maxAbsDiff(out, 5 * vocab, alone2, 0, 4 * vocab) < 1e-4f);
      // Without the block mask the second sample sees the first: its logits must change.
      float[] leaky =
          llama
              .forward(
                  DecoderInput.training(ids(s, packed), null).withPositionIds(ids(s, positions)))
              .toFloatArray();
      assertTrue(maxAbsDiff(leaky, 5 * vocab, alone2, 0, 4 * vocab) > 1e-3f);
    }
  }

  /**
   * A LoRA-shaped delta: scale * x A^T B^T on q_proj and v_proj, optionally for one batch row only.
   */
  private static ProjectionDelta lora(Map<String, NDArray[]> factors, NDArray rowWeights) {
    return (layer, module, x) -> {
      NDArray[] ab = factors.get(layer + "." + module);
      if (ab == null) {
        return null;
      }
      NDArray d = x.matMul(ab[0].transpose()).matMul(ab[1].transpose()).mul(2f);
      return rowWeights == null ? d : d.mul(rowWeights);
    };
  }

  @Test
  void trainingForwardUnderAutogradGivesGradientsToTheDeltaOnly() {
    ModelConfig c = qwen.config();
    try (NDManager s = manager.newSubManager()) {
      Map<String, NDArray[]> factors = new HashMap<>();
      for (int l = 0; l < c.numHiddenLayers(); l++) {
        for (Projection p : new Projection[] {Projection.Q_PROJ, Projection.V_PROJ}) {
          NDArray a = s.randomNormal(0, 0.1f, new Shape(4, p.inFeatures(c)), DataType.FLOAT32);
          NDArray b = s.randomNormal(0, 0.1f, new Shape(p.outFeatures(c), 4), DataType.FLOAT32);
          a.setRequiresGradient(true);
          b.setRequiresGradient(true);
          factors.put(l + "." + p.moduleName(), new NDArray[] {a, b});
        }
      }
      NDArray batch = ids(s, new long[] {3, 4, 5, 6}, new long[] {7, 8, 9, 10});
      try (GradientCollector gc = Engine.getEngine("PyTorch").newGradientCollector()) {
        NDArray logits =
            qwen.forward(DecoderInput.training(batch, null).withDelta(lora(factors, null)));
        assertArrayEquals(new long[] {2, 4, c.vocabSize()}, logits.getShape().getShape());
        NDArray loss = logits.logSoftmax(2).get(":, :, 5").mean().neg();
        gc.backward(loss);
      }
      for (NDArray[] ab : factors.values()) {
        assertTrue(ab[0].getGradient().abs().sum().getFloat() > 0, "A gets a gradient");
        assertTrue(ab[1].getGradient().abs().sum().getFloat() > 0, "B gets a gradient");
      }
      for (NDArray w : qwen.weights().values()) {
        assertFalse(w.hasGradient(), "base weights stay frozen");
      }
    }
  }

  @Test
  void perRowDeltaChangesOnlyItsRowAndZeroDeltaChangesNothing() {
    ModelConfig c = llama.config();
    int vocab = c.vocabSize();
    try (NDManager s = manager.newSubManager()) {
      Map<String, NDArray[]> factors = new HashMap<>();
      Map<String, NDArray[]> zero = new HashMap<>();
      for (int l = 0; l < c.numHiddenLayers(); l++) {
        Projection p = Projection.V_PROJ;
        NDArray a = s.randomNormal(0, 0.5f, new Shape(2, p.inFeatures(c)), DataType.FLOAT32);
        factors.put(
            l + "." + p.moduleName(),
            new NDArray[] {
              a, s.randomNormal(0, 0.5f, new Shape(p.outFeatures(c), 2), DataType.FLOAT32)
            });
        zero.put(
            l + "." + p.moduleName(), new NDArray[] {a, s.zeros(new Shape(p.outFeatures(c), 2))});
      }
      NDArray batch = ids(s, new long[] {3, 4, 5}, new long[] {3, 4, 5});
      float[] base = llama.forward(DecoderInput.training(batch, null)).toFloatArray();
      float[] none =
          llama
              .forward(DecoderInput.training(batch, null).withDelta(lora(zero, null)))
              .toFloatArray();
      assertArrayEquals(base, none);
      NDArray onlySecondRow = s.create(new float[] {0, 1}, new Shape(2, 1, 1));
      float[] tuned =
          llama
              .forward(DecoderInput.training(batch, null).withDelta(lora(factors, onlySecondRow)))
              .toFloatArray();
      assertTrue(maxAbsDiff(tuned, 0, base, 0, 3 * vocab) == 0f, "row 0 has no adapter");
      assertTrue(maxAbsDiff(tuned, 3 * vocab, base, 3 * vocab, 3 * vocab) > 1e-3f, "row 1 has one");
    }
  }

  @Test
  void forwardLeavesOnlyTheLogitsBehind() {
    try (NDManager s = manager.newSubManager()) {
      NDArray in = ids(s, new long[] {1, 2, 3});
      int before = s.getManagedArrays().size();
      NDArray logits = qwen.forward(DecoderInput.training(in, null));
      assertEquals(before + 1, s.getManagedArrays().size(), "intermediates are closed");
      assertFalse(logits.isReleased());
    }
  }

  @Test
  void weightsKeepHuggingFaceNamesAndShapes() {
    ModelConfig c = qwen.config();
    assertEquals(DecoderLayout.expectedShapes(c).keySet(), qwen.weights().keySet());
    NDArray q = qwen.weight("model.layers.1.self_attn.q_proj.weight");
    assertArrayEquals(
        new long[] {Projection.Q_PROJ.outFeatures(c), c.hiddenSize()}, q.getShape().getShape());
    assertTrue(
        qwen.weights().containsKey("model.layers.0.self_attn.k_proj.bias"), "qwen2 has q/k/v bias");
    assertTrue(qwen.weights().containsKey(DecoderLayout.LM_HEAD), "the qwen fixture is untied");
    assertFalse(
        llama.weights().containsKey(DecoderLayout.LM_HEAD), "the llama fixture ties embeddings");
    assertEquals(c.parameterCount() * 4, qwen.weightBytes());
  }

  @Test
  void weightShapeThatDisagreesWithConfigIsReported() throws IOException {
    Path model = dir.resolve("mismatch");
    ModelConfig c = TinyModels.config(TinyModels.Family.LLAMA, TinyModels.Size.TINY);
    TinyModels.write(model, TinyModels.Family.LLAMA, c, 3);
    // Claim a wider MLP than the weights have.
    String json =
        Files.readString(model.resolve("config.json"))
            .replace("\"intermediate_size\" : 128", "\"intermediate_size\" : 96");
    Files.writeString(model.resolve("config.json"), json);
    ModelLoadException e =
        assertThrows(
            ModelLoadException.class,
            () -> DecoderModel.load(model, Device.cpu(), DataType.FLOAT32));
    assertTrue(e.getMessage().contains("model.safetensors"), e.getMessage());
    assertTrue(
        e.getMessage()
            .contains("gate_proj.weight has shape [128, 64] but config.json implies [96, 64]"),
        e.getMessage());
  }

  @Test
  void bf16CheckpointLoadsAsFloat32() {
    Path model = dir.resolve("bf16");
    ModelConfig c = TinyModels.config(TinyModels.Family.MISTRAL, TinyModels.Size.TINY);
    RandomDecoderWriter.write(model, c, 4, SafetensorsDType.BF16, 2);
    try (DecoderModel m = DecoderModel.load(model, Device.cpu(), DataType.FLOAT32);
        SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(model);
        NDManager s = manager.newSubManager()) {
      String name = "model.layers.1.mlp.down_proj.weight";
      assertEquals(DataType.FLOAT32, m.weight(name).getDataType());
      assertArrayEquals(ckpt.readFloats(name), m.weight(name).toFloatArray());
      float[] logits =
          m.forward(DecoderInput.training(ids(s, new long[] {1, 50, 60}), null)).toFloatArray();
      for (float v : logits) {
        assertTrue(Float.isFinite(v));
      }
    }
  }

  @Test
  void llama3RopeScalingKeepsHighFrequenciesAndStretchesLowOnes() {
    ModelConfig c =
        TinyModels.config(TinyModels.Family.LLAMA, TinyModels.Size.TINY)
            .withShape(288, 64, 128, 2, 1, 1, 128)
            .withRopeScaling(new ModelConfig.RopeScaling("llama3", 8.0, 1.0, 4.0, 8192));
    float[] scaled = DecoderModel.inverseFrequencies(c);
    float[] plain = DecoderModel.inverseFrequencies(c.withRopeScaling(null));
    assertEquals(64, scaled.length);
    assertEquals(1.0f, scaled[0], "wavelength 2*pi is far below 8192/4: unchanged");
    assertEquals(
        plain[63] / 8, scaled[63], 1e-12, "the longest wavelengths are divided by the factor");
    // Some middle frequency is interpolated strictly between the two.
    boolean smoothed = false;
    for (int i = 0; i < 64; i++) {
      smoothed |= scaled[i] < plain[i] * 0.99f && scaled[i] > plain[i] / 8 * 1.01f;
    }
    assertTrue(smoothed);
    ModelConfig linear = c.withRopeScaling(new ModelConfig.RopeScaling("linear", 2.0, 0, 0, 0));
    assertEquals(plain[10] / 2, DecoderModel.inverseFrequencies(linear)[10], 1e-12);
  }

  @Test
  void float16OnCpuIsRefusedClearly() {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> DecoderModel.load(dir.resolve("llama"), Device.cpu(), DataType.FLOAT16));
    assertTrue(e.getMessage().contains("float16 compute needs a GPU"), e.getMessage());
    assertThrows(
        IllegalArgumentException.class,
        () -> DecoderModel.load(dir.resolve("llama"), Device.cpu(), DataType.BFLOAT16));
  }
}
