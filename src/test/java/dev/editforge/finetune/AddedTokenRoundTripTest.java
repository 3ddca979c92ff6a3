package dev.editforge.finetune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.JsonNode;
import dev.editforge.llm.DecoderInput;
import dev.editforge.llm.DecoderLayout;
import dev.editforge.llm.DecoderLoader;
import dev.editforge.llm.LoadedDecoder;
import dev.editforge.llm.ModelConfig;
import dev.editforge.llm.SafetensorsFile;
import dev.editforge.llm.TinyModels;
import dev.editforge.lora.LoraAdapter;
import dev.editforge.lora.LoraConfig;
import dev.editforge.lora.LoraMerge;
import dev.editforge.lora.LoraStack;
import dev.editforge.lora.PeftAdapters;
import dev.editforge.lora.TrainableTokens;
import dev.editforge.selfrag.ReflectionTokens;
import dev.editforge.text.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Save, reload, resize and merge with added tokens: an adapter with trainable token rows, saved in
 * PEFT's layout and loaded back, merged into the base resized again from scratch (what a
 * transformers user does before {@code PeftModel.from_pretrained}), gives the logits that the base
 * plus the live adapter gave — for a tied (Llama) and an untied (Qwen2) LM head.
 */
class AddedTokenRoundTripTest {
  @TempDir static Path dir;

  @BeforeAll
  static void engine() {
    Engine.getEngine("PyTorch");
    JniUtils.setNumThreads(1);
  }

  @Test
  void tiedEmbeddings() throws Exception {
    roundTrip(TinyModels.llama(dir.resolve("llama"), TinyModels.Size.TINY, 3), "llama", true);
  }

  @Test
  void untiedLmHead() throws Exception {
    roundTrip(TinyModels.qwen2(dir.resolve("qwen"), TinyModels.Size.TINY, 4), "qwen", false);
  }

  static void roundTrip(Path base, String name, boolean tied) throws Exception {
    AddedTokenModel.Prepared p =
        AddedTokenModel.prepare(
            base,
            dir.resolve(name + "-resized"),
            ReflectionTokens.ALL,
            64,
            AddedTokenModel.Init.MEAN,
            7);
    assertEquals(15, p.count());
    assertTrue(p.start() + 15 > p.oldRows(), "the tiny tokenizer outgrows its rows");
    assertEquals(0, p.newRows() % 64, "padded to a multiple of 64");
    assertTrue(p.newRows() >= p.start() + 15);
    Path adapterDir = dir.resolve(name + "-adapter");
    String text = "Who wrote it?[Retrieval]<paragraph>a book</paragraph>[Relevant]Ann[Utility:5]";
    float[] expected;
    long[] ids;
    LoraAdapter adapter;
    try (LoadedDecoder dec = DecoderLoader.load(p.dir(), Device.cpu(), DataType.FLOAT32)) {
      ModelConfig c = dec.model().config();
      assertEquals(p.newRows(), c.vocabSize());
      assertEquals(tied, c.tieWordEmbeddings());
      int h = c.hiddenSize();
      // new rows start at the mean of the old ones; old rows and other tensors are the base's
      float[] embed = dec.model().weight(DecoderLayout.EMBED).toFloatArray();
      try (LoadedDecoder orig = DecoderLoader.load(base, Device.cpu(), DataType.FLOAT32)) {
        float[] old = orig.model().weight(DecoderLayout.EMBED).toFloatArray();
        for (int i = 0; i < old.length; i++) {
          assertEquals(old[i], embed[i], 0f);
        }
        for (int col = 0; col < h; col += 7) {
          double mean = 0;
          for (int r = 0; r < p.oldRows(); r++) {
            mean += old[r * h + col];
          }
          mean /= p.oldRows();
          assertEquals(mean, embed[(p.start() + 14) * h + col], 1e-6);
          assertEquals(mean, embed[(p.newRows() - 1) * h + col], 1e-6, "padding rows too");
        }
        String q = "model.layers.1.self_attn.q_proj.weight";
        assertArrayEquals(
            orig.model().weight(q).toFloatArray(), dec.model().weight(q).toFloatArray());
      }
      ids = toLong(dec.tokenizer().encode(text, false));
      assertTrue(contains(ids, p.start() + 1), "[Retrieval] is one added token");

      adapter = randomAdapter(c, p, 11);
      PeftAdapters.save(adapterDir, adapter, "tiny-" + name);
      try (LoraStack stack = LoraStack.of(List.of(adapter), Device.cpu());
          NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
        NDArray in = m.create(ids, new Shape(1, ids.length));
        expected =
            dec.model()
                .forward(
                    DecoderInput.training(in, null).withDelta(stack.delta(m, new int[] {0}, 1)))
                .toFloatArray();
        float[] plain = dec.model().forward(DecoderInput.training(in, null)).toFloatArray();
        assertTrue(maxDiff(expected, plain) > 1e-3, "the token rows change the logits");
      }
    }

    // PEFT's layout
    JsonNode cfg = Json.COMPACT.readTree(adapterDir.resolve(PeftAdapters.CONFIG).toFile());
    JsonNode indices = cfg.get("trainable_token_indices");
    JsonNode list = tied ? indices : indices.get("embed_tokens");
    assertTrue(list.isArray(), cfg.toString());
    assertEquals(p.start(), list.get(0).asInt());
    assertEquals(15, list.size());
    if (!tied) {
      assertEquals(list, indices.get("lm_head"));
    }
    try (SafetensorsFile f = SafetensorsFile.open(adapterDir.resolve(PeftAdapters.WEIGHTS))) {
      assertArrayEquals(
          new long[] {15, adapter.trainableTokens().hidden()},
          f.info(PeftAdapters.EMBED_TOKENS_DELTA).shape());
      assertEquals(!tied, f.names().contains(PeftAdapters.LM_HEAD_TOKENS_DELTA));
    }

    // resize the base again from scratch, reload the adapter, merge, load the merged model
    AddedTokenModel.Prepared again =
        AddedTokenModel.prepare(
            base,
            dir.resolve(name + "-resized-again"),
            ReflectionTokens.ALL,
            64,
            AddedTokenModel.Init.NORMAL,
            99);
    Path merged = dir.resolve(name + "-merged");
    try (LoadedDecoder dec = DecoderLoader.load(again.dir(), Device.cpu(), DataType.FLOAT32)) {
      LoraAdapter back = PeftAdapters.load(adapterDir, dec.model().config());
      assertEquals(adapter.trainableTokens(), back.trainableTokens());
      assertEquals(tied, back.trainableTokens().tied());
      LoraMerge.saveMerged(dec.model(), back, merged);
    }
    JsonNode mergedConfig = Json.COMPACT.readTree(merged.resolve("config.json").toFile());
    assertEquals(p.newRows(), mergedConfig.get("vocab_size").asInt());
    assertTrue(Files.exists(merged.resolve("model.safetensors")), "a plain HF directory");
    assertTrue(!Files.exists(merged.resolve(AddedTokenModel.RESIZED_FILE)));
    try (LoadedDecoder dec = DecoderLoader.load(merged, Device.cpu(), DataType.FLOAT32);
        NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
      assertEquals(p.start() + 1, dec.tokenizer().specialTokenId("[Retrieval]"));
      NDArray in = m.create(ids, new Shape(1, ids.length));
      float[] actual = dec.model().forward(DecoderInput.training(in, null)).toFloatArray();
      // Only the padding rows (ids no token has) were initialised differently by the two resizes.
      int known = p.start() + 15;
      float diff = 0;
      for (int t = 0; t < ids.length; t++) {
        for (int v = 0; v < known; v++) {
          int at = t * p.newRows() + v;
          diff = Math.max(diff, Math.abs(expected[at] - actual[at]));
        }
      }
      assertTrue(diff < 1e-3, "merged logits equal base + adapter: " + diff);
    }
  }

  /** Random LoRA factors (B too, so the merge matters) and random rows for the 15 tokens. */
  static LoraAdapter randomAdapter(ModelConfig c, AddedTokenModel.Prepared p, long seed) {
    LoraAdapter init =
        LoraAdapter.initialize(c, new LoraConfig(4, 8, 0.0, List.of("q_proj", "v_proj")), seed);
    SplittableRandom rng = new SplittableRandom(seed);
    Map<String, LoraAdapter.Factors> factors = new LinkedHashMap<>();
    for (LoraAdapter.Factors f : init.factors().values()) {
      float[] b = new float[f.b().length];
      for (int i = 0; i < b.length; i++) {
        b[i] = (float) (rng.nextDouble() - 0.5) * 0.2f;
      }
      factors.put(f.target().key(), new LoraAdapter.Factors(f.target(), f.a(), b));
    }
    int h = c.hiddenSize();
    float[] embed = new float[15 * h];
    float[] head = c.tieWordEmbeddings() ? null : new float[15 * h];
    for (int i = 0; i < embed.length; i++) {
      embed[i] = (float) rng.nextGaussian();
      if (head != null) {
        head[i] = (float) rng.nextGaussian();
      }
    }
    LoraAdapter a =
        new LoraAdapter(init.config(), factors, new TrainableTokens(p.start(), 15, h, embed, head));
    assertNotNull(a.trainableTokens());
    assertNull(init.trainableTokens());
    return a;
  }

  static long[] toLong(int[] ids) {
    long[] out = new long[ids.length];
    for (int i = 0; i < ids.length; i++) {
      out[i] = ids[i];
    }
    return out;
  }

  static boolean contains(long[] ids, long id) {
    for (long x : ids) {
      if (x == id) {
        return true;
      }
    }
    return false;
  }

  static float maxDiff(float[] a, float[] b) {
    float d = 0;
    for (int i = 0; i < a.length; i++) {
      d = Math.max(d, Math.abs(a[i] - b[i]));
    }
    return d;
  }
}
