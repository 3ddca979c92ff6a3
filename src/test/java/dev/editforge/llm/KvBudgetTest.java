package dev.editforge.llm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** editforge.llm.max-kv-cache-mb: batches cut to what fits, an oversized request fails alone. */
class KvBudgetTest {
  private static final ModelConfig TINY =
      TinyModels.config(TinyModels.Family.LLAMA, TinyModels.Size.TINY);

  @Test
  void countsKeysAndValuesOfEveryLayer() {
    ModelConfig tiny = TinyModels.config(TinyModels.Family.LLAMA, TinyModels.Size.TINY);
    // 2 (k, v) x 2 layers x 2 kv heads x 16 head dim x 4 bytes.
    assertEquals(512, KvBudget.bytesPerPosition(tiny, 4));
    KvBudget budget = new KvBudget(1_000_000, 512);
    assertEquals(2, budget.rowsThatFit(700));
    assertEquals(0, budget.rowsThatFit(2000));
    assertNull(budget.refusal(10, 1900));
    String why = budget.refusal(10, 2000);
    assertTrue(why.contains("max-kv-cache-mb") && why.contains("1.0 MB"), why);
  }

  @Test
  void anOversizedRequestFailsAloneAndCutBatchesDecodeAsOne(@TempDir Path dir) {
    LlmTestSupport.oneEngineThread();
    try (LoadedDecoder d =
        DecoderLoader.load(
            TinyModels.write(
                dir.resolve("llama"),
                TinyModels.Family.LLAMA,
                // A window wide enough that the KV bound, not the window, is what refuses.
                // and 4 KV heads: 1 KB per position, so 1 MB is 976 positions.
                TINY.withShape(TINY.vocabSize(), 64, 128, 2, 4, 4, 16)
                    .withMaxPositionEmbeddings(4096),
                5),
            Device.cpu(),
            DataType.FLOAT32)) {
      List<GenerationRequest> requests =
          List.of(
              GenerationRequest.text("a", "one two", SamplingParams.greedy(340)),
              GenerationRequest.text("b", "two one", SamplingParams.greedy(340)),
              GenerationRequest.text("huge", "one one", SamplingParams.greedy(1200)),
              GenerationRequest.text("c", "one six", SamplingParams.greedy(340)));
      LlmSettings bounded = LlmSettings.defaults().withMaxKvCacheMb(1);
      List<GenerationResult> cut;
      try (LocalGenerator g = new LocalGenerator(d, bounded, false)) {
        cut = g.generate(requests);
      }
      List<GenerationResult> whole;
      try (LocalGenerator g = new LocalGenerator(d, LlmSettings.defaults(), false)) {
        whole = g.generate(requests);
      }
      assertTrue(
          !cut.get(2).ok() && cut.get(2).error().contains("max-kv-cache-mb"),
          cut.get(2).toString());
      assertTrue(whole.get(2).ok(), whole.get(2).toString());
      for (int i : new int[] {0, 1, 3}) {
        assertTrue(cut.get(i).ok(), cut.get(i).toString());
        assertEquals(
            whole.get(i).completions().get(0).tokenIds(),
            cut.get(i).completions().get(0).tokenIds());
      }
    }
  }
}
