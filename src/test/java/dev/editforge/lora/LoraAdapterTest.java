package dev.editforge.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.editforge.llm.DecoderInput;
import dev.editforge.llm.DecoderModel;
import dev.editforge.llm.ModelConfig;
import dev.editforge.llm.SafetensorsFile;
import dev.editforge.llm.TinyModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * LoRA initialization, frozen base, PEFT files and merging on a tiny Qwen2 (q/k/v bias, untied
 * head).
 */
class LoraAdapterTest {
  @TempDir static Path dir;
  static DecoderModel model;
  static NDManager manager;

  @BeforeAll
  static void load() {
    LoraTestSupport.oneEngineThread();
    model =
        DecoderModel.load(
            TinyModels.qwen2(dir.resolve("qwen"), TinyModels.Size.TINY, 7),
            Device.cpu(),
            DataType.FLOAT32);
    manager = NDManager.newBaseManager(Device.cpu(), "PyTorch");
  }

  @AfterAll
  static void close() {
    manager.close();
    model.close();
  }

  private static float[] logits(LoraStack stack, long[] ids) {
    try (NDManager m = manager.newSubManager()) {
      NDArray in = m.create(ids, new Shape(1, ids.length));
      DecoderInput input = DecoderInput.training(in, null);
      if (stack != null) {
        input = input.withDelta(stack.delta(m, new int[] {0}, 1));
      }
      return model.forward(input).toFloatArray();
    }
  }

  /**
   * An adapter with random nonzero B as well (as after training), so merging has an effect to
   * check.
   */
  private static LoraAdapter randomAdapter(LoraConfig config, long seed) {
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

  @Test
  void initializationIsPeftsKaimingUniformAForZeroBAndLeavesTheModelUnchanged() {
    LoraAdapter a = LoraAdapter.initialize(model.config(), LoraConfig.seal(), 5);
    ModelConfig c = model.config();
    assertEquals(2 * c.numHiddenLayers(), a.factors().size(), "q_proj and v_proj of every layer");
    for (LoraAdapter.Factors f : a.factors().values()) {
      double bound = 1.0 / Math.sqrt(f.target().in());
      float max = LoraTestSupport.maxAbs(f.a());
      assertTrue(
          max <= bound && max > 0.8 * bound,
          "A ~ U(-1/sqrt(in), 1/sqrt(in)), max " + max + " bound " + bound);
      assertEquals(0f, LoraTestSupport.maxAbs(f.b()), "B starts at zero");
    }
    assertEquals(
        0f,
        LoraTestSupport.maxAbsDiff(
            a.factors().get("0.q_proj").a(),
            LoraAdapter.initialize(c, LoraConfig.seal(), 5).factors().get("0.q_proj").a()),
        "seeded");
    assertNotEquals(
        0f,
        LoraTestSupport.maxAbsDiff(
            a.factors().get("0.q_proj").a(),
            LoraAdapter.initialize(c, LoraConfig.seal(), 6).factors().get("0.q_proj").a()));
    long[] ids = {5, 9, 14, 20, 33};
    try (LoraStack s = LoraStack.of(List.of(a), Device.cpu())) {
      assertArrayEquals(
          logits(null, ids), logits(s, ids), 0f, "B = 0: the adapted model is the base model");
    }
    LoraConfig all = new LoraConfig(4, 8, 0, List.of("all-linear"));
    assertEquals(7 * c.numHiddenLayers(), LoraAdapter.initialize(c, all, 1).factors().size());
    assertThrows(IllegalArgumentException.class, () -> new LoraConfig(4, 8, 0, List.of("lm_head")));
  }

  @Test
  void trainingUpdatesOnlyTheAdapterAndLowersTheLoss() {
    LoraConfig config = new LoraConfig(4, 8, 0, List.of("q_proj", "v_proj", "down_proj"));
    List<TrainSample> data = LoraTestSupport.samples(1, 3, 10, 200);
    TrainSettings s =
        TrainSettings.defaults()
            .withEpochs(8)
            .withLearningRate(1e-2)
            .withPadding(64, TrainSettings.PadTo.LONGEST, false);
    Map<String, float[]> before = new LinkedHashMap<>();
    for (var e : model.weights().entrySet()) {
      before.put(e.getKey(), e.getValue().toFloatArray());
    }
    try (LoraStack stack =
            LoraStack.of(List.of(LoraAdapter.initialize(model.config(), config, 3)), Device.cpu());
        LoraTrainer t = new LoraTrainer(model, stack, List.of(data), s, new long[] {3}, 0)) {
      LoraTrainer.Report r = t.train();
      assertEquals(24, r.steps()[0], "3 samples x 8 epochs at batch 1");
      assertTrue(
          r.lastLoss()[0] < r.firstLoss()[0] * 0.8,
          "loss falls: " + r.firstLoss()[0] + " -> " + r.lastLoss()[0]);
      assertTrue(
          LoraTestSupport.maxAbs(stack.adapter(0).factors().get("1.down_proj").b()) > 0,
          "B trained");
    }
    for (var e : model.weights().entrySet()) {
      assertFalse(e.getValue().hasGradient(), e.getKey() + " stays frozen");
      assertArrayEquals(
          before.get(e.getKey()), e.getValue().toFloatArray(), 0f, e.getKey() + " unchanged");
    }
  }

  @Test
  void peftRoundTripKeepsEveryTensorAndWritesPeftsNamesAndConfig() throws Exception {
    LoraAdapter a = randomAdapter(new LoraConfig(4, 8, 0.05, List.of("q_proj", "v_proj")), 11);
    Path out = dir.resolve("peft");
    PeftAdapters.save(out, a, "Qwen/Qwen2.5-7B");
    JsonNode cfg = new ObjectMapper().readTree(out.resolve("adapter_config.json").toFile());
    assertEquals("LORA", cfg.get("peft_type").asText());
    assertEquals("CAUSAL_LM", cfg.get("task_type").asText());
    assertEquals(4, cfg.get("r").asInt());
    assertTrue(cfg.get("lora_alpha").isIntegralNumber());
    assertEquals(8, cfg.get("lora_alpha").asInt());
    assertEquals(0.05, cfg.get("lora_dropout").asDouble());
    assertEquals("[\"q_proj\",\"v_proj\"]", cfg.get("target_modules").toString());
    assertEquals("none", cfg.get("bias").asText());
    assertEquals("Qwen/Qwen2.5-7B", cfg.get("base_model_name_or_path").asText());
    try (SafetensorsFile f = SafetensorsFile.open(out.resolve("adapter_model.safetensors"))) {
      assertTrue(
          f.names().contains("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"),
          f.names().toString());
      assertTrue(
          f.names().contains("base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight"));
      assertEquals(4 * model.config().numHiddenLayers(), f.names().size());
      ModelConfig c = model.config();
      assertArrayEquals(
          new long[] {4, c.hiddenSize()},
          f.info("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight").shape());
      assertArrayEquals(
          new long[] {(long) c.numKeyValueHeads() * c.headDim(), 4},
          f.info("base_model.model.model.layers.0.self_attn.v_proj.lora_B.weight").shape());
    }
    LoraAdapter back = PeftAdapters.load(out, model.config());
    assertEquals(a.config(), back.config());
    for (String k : a.factors().keySet()) {
      assertArrayEquals(a.factors().get(k).a(), back.factors().get(k).a(), 0f);
      assertArrayEquals(a.factors().get(k).b(), back.factors().get(k).b(), 0f);
    }
  }

  @Test
  void loadsPeftFilesWithAdapterNamesAndRsloraAndRefusesDora() throws Exception {
    LoraAdapter a = randomAdapter(new LoraConfig(4, 8, 0, List.of("q_proj")), 12);
    Path out = dir.resolve("peft-variants");
    PeftAdapters.save(out, a, "base");
    // PEFT's in-memory names carry the adapter name; some tools save them so.
    dev.editforge.llm.SafetensorsWriter w = new dev.editforge.llm.SafetensorsWriter();
    for (LoraAdapter.Factors f : a.factors().values()) {
      w.addF32(
          f.target().peftA().replace("lora_A.weight", "lora_A.default.weight"),
          new long[] {4, f.target().in()},
          f.a());
      w.addF32(
          f.target().peftB().replace("lora_B.weight", "lora_B.default.weight"),
          new long[] {f.target().out(), 4},
          f.b());
    }
    w.write(out.resolve("adapter_model.safetensors"));
    String cfg = Files.readString(out.resolve("adapter_config.json"));
    Files.writeString(
        out.resolve("adapter_config.json"),
        cfg.replace("\"use_rslora\" : false", "\"use_rslora\" : true"));
    LoraAdapter back = PeftAdapters.load(out, model.config());
    assertEquals(8.0 / 2.0, back.config().scaling(), 1e-12, "rsLoRA scale alpha / sqrt(r)");
    assertArrayEquals(a.factors().get("1.q_proj").b(), back.factors().get("1.q_proj").b(), 0f);
    Files.writeString(
        out.resolve("adapter_config.json"),
        cfg.replace("\"use_dora\" : false", "\"use_dora\" : true"));
    assertThrows(IllegalArgumentException.class, () -> PeftAdapters.load(out, model.config()));
  }

  @Test
  void mergedModelGivesTheLogitsOfBasePlusAdapter() {
    LoraAdapter a = randomAdapter(new LoraConfig(4, 8, 0, List.of("all-linear")), 13);
    Path merged = dir.resolve("merged");
    LoraMerge.saveMerged(model, a, merged);
    for (String f :
        List.of(
            "config.json", "tokenizer.json", "tokenizer_config.json", "generation_config.json")) {
      assertTrue(Files.exists(merged.resolve(f)), f + " copied");
    }
    long[] ids = {4, 17, 29, 40, 51, 60, 7};
    float[] viaAdapter;
    try (LoraStack s = LoraStack.of(List.of(a), Device.cpu())) {
      viaAdapter = logits(s, ids);
    }
    float[] base = logits(null, ids);
    assertTrue(
        LoraTestSupport.maxAbsDiff(base, viaAdapter) > 1e-2, "the adapter changes the logits");
    try (DecoderModel m = DecoderModel.load(merged, Device.cpu(), DataType.FLOAT32);
        NDManager nm = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
      float[] mergedLogits =
          m.forward(DecoderInput.training(nm.create(ids, new Shape(1, ids.length)), null))
              .toFloatArray();
      float diff = LoraTestSupport.maxAbsDiff(viaAdapter, mergedLogits);
      assertTrue(diff < 1e-4, "merged = base + adapter, max diff " + diff);
      assertEquals(Set.copyOf(model.weights().keySet()), Set.copyOf(m.weights().keySet()));
    }
  }
}
