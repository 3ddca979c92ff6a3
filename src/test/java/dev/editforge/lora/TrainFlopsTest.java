package dev.editforge.lora;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.editforge.llm.ModelConfig;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@link TrainFlops} against counts done by hand on a model small enough to write out. */
class TrainFlopsTest {
  /** Hidden 4, intermediate 8, 2 query heads and 1 KV head of size 2, vocab 10. */
  private static ModelConfig tiny(int layers) {
    return new ModelConfig(
        "llama",
        10,
        4,
        8,
        layers,
        2,
        1,
        2,
        1e-5,
        10000.0,
        null,
        64,
        true,
        false,
        false,
        false,
        0,
        -1,
        List.of(1));
  }

  @Test
  void oneLayerWithQueryAndValueAdapters() {
    // T = 3, r = 2. q 4->4: base 2*3*4*4 = 96 (input is the embedding: no backward), LoRA forward
    // 2*3*2*(4+4) = 96, backward B, xA, A: 2*3*2*(4+4+4) = 144 -> 336. k 4->2: 48. v 4->2: 48 +
    // 2*3*2*(4+2) = 72 + 2*3*2*(2+2+4) = 96 -> 216. Attention: one matmul 2*2*3*3*2 = 72; forward
    // 2 of them, backward values, probabilities, queries (keys need none) -> 5*72 = 360. o 4->4
    // with its input's gradient: 2*96 = 192. gate, up 4->8 and down 8->4, each 2*(2*3*4*8) = 384.
    // LM head 2*3*4*10 = 240, twice.
    double expected = 336 + 48 + 216 + 360 + 192 + 3 * 384 + 2 * 240;
    assertEquals(2784.0, expected);
    LoraConfig lora = new LoraConfig(2, 4, 0.0, List.of("q_proj", "v_proj"));
    assertEquals(expected, TrainFlops.sequence(tiny(1), lora, 3));
  }

  @Test
  void nothingBeforeTheFirstAdaptedProjectionIsDifferentiated() {
    // Two layers, LoRA only on down_proj. Layer 0 runs forward only up to down_proj: q 96, k 48,
    // v 48, attention 2*72, o 96, gate 192, up 192; down 8->4: 192 + LoRA forward 2*3*2*(8+4) =
    // 144 + backward B, xA, A 2*3*2*(4+4+8) = 192 (its input needs no gradient) -> 528.
    double layer0 = 96 + 48 + 48 + 144 + 96 + 192 + 192 + 528;
    // Layer 1 sees a stream that depends on the adapter: every base matmul twice (q 192, k 96,
    // v 96, o 192, gate 384, up 384), attention 6*72, down 384 + 144 + 192 + input 2*3*2*8 = 96.
    double layer1 = 192 + 96 + 96 + 6 * 72 + 192 + 384 + 384 + (384 + 144 + 192 + 96);
    LoraConfig lora = new LoraConfig(2, 4, 0.0, List.of("down_proj"));
    assertEquals(layer0 + layer1 + 2 * 240, TrainFlops.sequence(tiny(2), lora, 3));
    assertEquals(0.0, TrainFlops.sequence(tiny(2), lora, 0));
  }
}
