package dev.editforge.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import dev.editforge.llm.DecoderInput;
import dev.editforge.llm.DecoderModel;
import dev.editforge.llm.Projection;
import dev.editforge.llm.RandomGpt2Writer;
import dev.editforge.llm.SafetensorsFile;
import dev.editforge.text.Json;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * LoRA on GPT-2's {@code c_attn} / {@code c_proj} / {@code c_fc}: training, merging into the Conv1D
 * ({@code [in, out]}) weights, and PEFT's adapter format with {@code fan_in_fan_out}.
 */
class Gpt2LoraTest {
  @TempDir static Path dir;
  static DecoderModel model;
  static NDManager manager;
  static final LoraConfig GPT2_LORA = new LoraConfig(4, 8, 0, List.of("c_attn", "c_proj", "c_fc"));
  static final long[] IDS = {40, 7, 200, 95, 12};

  @BeforeAll
  static void load() {
    LoraTestSupport.oneEngineThread();
    Path d =
        RandomGpt2Writer.write(dir.resolve("gpt2"), RandomGpt2Writer.config(32, 2, 4, 64), 9, true);
    model = DecoderModel.load(d, Device.cpu(), DataType.FLOAT32);
    manager = NDManager.newBaseManager(Device.cpu(), "PyTorch");
  }

  @AfterAll
  static void close() {
    manager.close();
    model.close();
  }

  private static float[] logits(DecoderModel m, LoraStack stack, long[] ids) {
    try (NDManager s = manager.newSubManager()) {
      NDArray in = s.create(ids, new Shape(1, ids.length));
      DecoderInput input = DecoderInput.training(in, null);
      if (stack != null) {
        input = input.withDelta(stack.delta(s, new int[] {0}, 1));
      }
      return m.forward(input).toFloatArray();
    }
  }

  private static LoraAdapter randomAdapter(long seed) {
    LoraAdapter init = LoraAdapter.initialize(model.config(), GPT2_LORA, seed);
    SplittableRandom rng = new SplittableRandom(seed + 1);
    Map<String, LoraAdapter.Factors> f = new LinkedHashMap<>();
    for (LoraAdapter.Factors x : init.factors().values()) {
      float[] b = new float[x.b().length];
      for (int i = 0; i < b.length; i++) {
        b[i] = (float) (rng.nextGaussian() * 0.1);
      }
      f.put(x.target().key(), new LoraAdapter.Factors(x.target(), x.a(), b));
    }
    return new LoraAdapter(GPT2_LORA, f);
  }

  @Test
  void cProjTargetsBothTheAttentionAndTheMlpOutput() {
    List<LoraTarget> targets = GPT2_LORA.targetsOf(model.config());
    assertEquals(8, targets.size(), "4 projections x 2 layers");
    LoraTarget cAttn = targets.get(0);
    assertEquals(Projection.C_ATTN, cAttn.projection());
    assertEquals(32, cAttn.in());
    assertEquals(96, cAttn.out());
    assertEquals("1.mlp.c_proj", targets.get(7).key());
    assertEquals(128, targets.get(7).in());
    assertThrows(
        IllegalArgumentException.class,
        () -> new LoraConfig(4, 8, 0, List.of("q_proj")).targetsOf(model.config()),
        "q_proj is no GPT-2 module");
    assertEquals(
        8, new LoraConfig(4, 8, 0, List.of("all-linear")).targetsOf(model.config()).size());
  }

  @Test
  void trainingLowersTheLossAndLeavesTheBaseUnchanged() {
    List<TrainSample> data = LoraTestSupport.samples(1, 3, 10, 250);
    TrainSettings s =
        TrainSettings.defaults()
            .withEpochs(8)
            .withLearningRate(1e-2)
            .withPadding(64, TrainSettings.PadTo.LONGEST, false);
    float[] wte = model.weight("transformer.wte.weight").toFloatArray();
    try (LoraStack stack =
            LoraStack.of(
                List.of(LoraAdapter.initialize(model.config(), GPT2_LORA, 3)), Device.cpu());
        LoraTrainer t = new LoraTrainer(model, stack, List.of(data), s, new long[] {3}, 0)) {
      LoraTrainer.Report r = t.train();
      assertTrue(
          r.lastLoss()[0] < r.firstLoss()[0] * 0.8,
          "loss falls: " + r.firstLoss()[0] + " -> " + r.lastLoss()[0]);
      assertTrue(
          LoraTestSupport.maxAbs(stack.adapter(0).factors().get("1.mlp.c_proj").b()) > 0,
          "the MLP's c_proj trained");
      assertTrue(
          LoraTestSupport.maxAbs(stack.adapter(0).factors().get("0.attn.c_proj").b()) > 0,
          "the attention's c_proj trained");
    }
    assertArrayEquals(wte, model.weight("transformer.wte.weight").toFloatArray(), 0f);
    assertFalse(model.weight("transformer.h.0.attn.c_attn.weight").hasGradient());
  }

  @Test
  void mergedConv1dWeightsGiveTheAdaptedLogits() {
    LoraAdapter a = randomAdapter(21);
    float[] adapted;
    try (LoraStack s = LoraStack.of(List.of(a), Device.cpu())) {
      adapted = logits(model, s, IDS);
    }
    float[] base = logits(model, null, IDS);
    assertTrue(LoraTestSupport.maxAbsDiff(base, adapted) > 1e-2, "the adapter changes logits");
    Path out = dir.resolve("merged");
    LoraMerge.saveMerged(model, a, out);
    try (DecoderModel merged = DecoderModel.load(out, Device.cpu(), DataType.FLOAT32)) {
      float[] m = logits(merged, null, IDS);
      assertTrue(
          LoraTestSupport.maxAbsDiff(adapted, m) < 1e-4,
          "merged = base + adapter: " + LoraTestSupport.maxAbsDiff(adapted, m));
    }
  }

  @Test
  void peftFormatSaysFanInFanOutAndRoundTrips() throws Exception {
    LoraAdapter a = randomAdapter(31);
    Path out = dir.resolve("peft");
    PeftAdapters.save(out, a, "gpt2");
    JsonNode cfg = Json.COMPACT.readTree(out.resolve(PeftAdapters.CONFIG).toFile());
    assertTrue(cfg.get("fan_in_fan_out").asBoolean(), cfg.toString());
    assertEquals("[\"c_attn\",\"c_proj\",\"c_fc\"]", cfg.get("target_modules").toString());
    try (SafetensorsFile f = SafetensorsFile.open(out.resolve(PeftAdapters.WEIGHTS))) {
      assertTrue(f.names().contains("base_model.model.transformer.h.1.mlp.c_proj.lora_A.weight"));
      assertArrayEquals(
          new long[] {4, 32},
          f.info("base_model.model.transformer.h.0.attn.c_attn.lora_A.weight").shape());
      assertArrayEquals(
          new long[] {96, 4},
          f.info("base_model.model.transformer.h.0.attn.c_attn.lora_B.weight").shape());
    }
    LoraAdapter back = PeftAdapters.load(out, model.config());
    assertEquals(a.factors().keySet(), back.factors().keySet());
    for (String k : a.factors().keySet()) {
      assertArrayEquals(a.factors().get(k).a(), back.factors().get(k).a(), 0f, k);
      assertArrayEquals(a.factors().get(k).b(), back.factors().get(k).b(), 0f, k);
    }
  }
}
