package dev.editforge.llm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * GPT-2 in the runtime: a test-made GPT-2 (random weights, transformers' names and shapes) against
 * a forward written here in plain double arithmetic, its KV-cached greedy decoding against
 * recomputing every step, and the two naming conventions of GPT-2 checkpoints.
 */
class Gpt2ModelTest {
  @TempDir static Path dir;
  static Path modelDir;
  static LoadedDecoder gpt2;
  static NDManager manager;

  static final long[] IDS = {40, 7, 270, 95, 12, 201};

  @BeforeAll
  static void load() {
    LlmTestSupport.oneEngineThread();
    modelDir =
        RandomGpt2Writer.write(dir.resolve("gpt2"), RandomGpt2Writer.config(32, 2, 4, 64), 5, true);
    gpt2 = DecoderLoader.load(modelDir, Device.cpu(), DataType.FLOAT32);
    manager = NDManager.newBaseManager(Device.cpu(), "PyTorch");
  }

  @AfterAll
  static void close() {
    manager.close();
    gpt2.close();
  }

  private static float[] logits(DecoderModel model, long[] ids) {
    try (NDManager m = manager.newSubManager()) {
      NDArray in = m.create(ids, new Shape(1, ids.length));
      return model.forward(DecoderInput.training(in, null)).toFloatArray();
    }
  }

  @Test
  void configAndWeightsHaveTransformersNamesAndShapes() throws Exception {
    ModelConfig c = gpt2.model().config();
    assertTrue(c.isGpt2());
    String json = Files.readString(modelDir.resolve("config.json"));
    assertTrue(json.contains("\"GPT2LMHeadModel\"") && json.contains("\"n_embd\" : 32"), json);
    try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(modelDir)) {
      assertEquals(
          List.of(32L, 96L),
          toList(ckpt.info("transformer.h.1.attn.c_attn.weight").shape()),
          "Conv1D stores [in, out]");
      assertEquals(
          List.of(128L, 32L), toList(ckpt.info("transformer.h.0.mlp.c_proj.weight").shape()));
      assertEquals(List.of(64L, 32L), toList(ckpt.info("transformer.wpe.weight").shape()));
      assertTrue(ckpt.contains("transformer.ln_f.bias"));
      assertTrue(!ckpt.contains("lm_head.weight"), "the head is tied to wte");
    }
    assertEquals(Gpt2Layout.parameterCount(c), c.parameterCount());
  }

  private static List<Long> toList(long[] a) {
    List<Long> out = new ArrayList<>();
    for (long v : a) {
      out.add(v);
    }
    return out;
  }

  @Test
  void logitsAtTwoPositionsMatchAPlainJavaForward() {
    float[] actual = logits(gpt2.model(), IDS);
    int vocab = gpt2.model().config().vocabSize();
    double[][] expected = Gpt2Reference.logits(modelDir, gpt2.model().config(), IDS);
    for (int pos : new int[] {1, 5}) {
      double maxDiff = 0;
      double maxAbs = 0;
      for (int v = 0; v < vocab; v++) {
        maxDiff = Math.max(maxDiff, Math.abs(actual[pos * vocab + v] - expected[pos][v]));
        maxAbs = Math.max(maxAbs, Math.abs(expected[pos][v]));
      }
      assertTrue(maxAbs > 1, "logits are not trivially small: " + maxAbs);
      assertTrue(maxDiff < 1e-3, "position " + pos + " differs by " + maxDiff);
    }
  }

  @Test
  void checkpointWithoutTheTransformerPrefixLoadsTheSameModel() {
    Path bare =
        RandomGpt2Writer.write(
            dir.resolve("bare"), RandomGpt2Writer.config(32, 2, 4, 64), 5, false);
    try (SafetensorsCheckpoint ckpt = SafetensorsCheckpoint.open(bare)) {
      assertTrue(ckpt.contains("h.0.attn.c_attn.weight") && ckpt.contains("wte.weight"));
    }
    try (DecoderModel m = DecoderModel.load(bare, Device.cpu(), DataType.FLOAT32)) {
      float[] a = logits(m, IDS);
      float[] b = logits(gpt2.model(), IDS);
      for (int i = 0; i < a.length; i++) {
        assertEquals(b[i], a[i], 0f);
      }
    }
  }

  @Test
  void missingTensorsAreNamedInOneError() throws Exception {
    Path broken =
        RandomGpt2Writer.write(
            dir.resolve("broken"), RandomGpt2Writer.config(32, 2, 4, 64), 5, true);
    Path file = broken.resolve(SafetensorsCheckpoint.SINGLE_FILE);
    SafetensorsWriter w = new SafetensorsWriter();
    try (SafetensorsFile f = SafetensorsFile.open(file)) {
      for (String name : f.names()) {
        if (!name.equals("transformer.h.1.ln_2.bias") && !name.equals("transformer.wpe.weight")) {
          w.addF32(name, f.info(name).shape(), f.readFloats(name));
        }
      }
    }
    w.write(file);
    ModelLoadException e =
        assertThrows(
            ModelLoadException.class,
            () -> DecoderModel.load(broken, Device.cpu(), DataType.FLOAT32));
    assertTrue(
        e.getMessage().contains("transformer.wpe.weight")
            && e.getMessage().contains("transformer.h.1.ln_2.bias")
            && e.getMessage().contains("2 tensor(s)"),
        e.getMessage());
  }

  @Test
  void kvCachedGreedyDecodingEqualsRecomputingEveryStep() {
    int[] prompt = {40, 7, 270, 95};
    List<Integer> cached =
        LocalGenerator.greedyIds(gpt2.model(), List.of(prompt), 12, Set.of(), null).get(0);
    List<Long> seq = new ArrayList<>();
    for (int id : prompt) {
      seq.add((long) id);
    }
    int vocab = gpt2.model().config().vocabSize();
    List<Integer> recomputed = new ArrayList<>();
    for (int step = 0; step < 12; step++) {
      long[] ids = seq.stream().mapToLong(Long::longValue).toArray();
      float[] all = logits(gpt2.model(), ids);
      int best = 0;
      for (int v = 1; v < vocab; v++) {
        if (all[(ids.length - 1) * vocab + v] > all[(ids.length - 1) * vocab + best]) {
          best = v;
        }
      }
      recomputed.add(best);
      seq.add((long) best);
    }
    assertEquals(recomputed, cached);
    assertTrue(Set.copyOf(cached).size() > 1, "not one token repeated: " + cached);
  }

  @Test
  void leftPaddedBatchGeneratesWhatEachPromptGeneratesAlone() {
    int[] a = {40, 7, 270, 95};
    int[] b = {12, 201};
    List<List<Integer>> together =
        LocalGenerator.greedyIds(gpt2.model(), List.of(a, b), 6, Set.of(), null);
    assertEquals(
        LocalGenerator.greedyIds(gpt2.model(), List.of(b), 6, Set.of(), null).get(0),
        together.get(1));
    assertEquals(
        LocalGenerator.greedyIds(gpt2.model(), List.of(a), 6, Set.of(), null).get(0),
        together.get(0));
  }
}
