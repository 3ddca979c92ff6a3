package dev.editforge.llm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class DecodeProfileTest {
  @TempDir Path dir;

  @Test
  void recordsEveryDecodeStepOnlyWhileProfilingAndPrintsEachCategory() {
    LlmTestSupport.oneEngineThread();
    assertNull(DecodeProfile.recorder(), "off unless a profile runs");
    try (LoadedDecoder decoder =
            DecoderLoader.load(
                TinyModels.llama(dir.resolve("llama"), TinyModels.Size.TINY, 3),
                Device.cpu(),
                DataType.FLOAT32);
        LocalGenerator g = new LocalGenerator(decoder, LlmSettings.defaults(), false)) {
      DecodeProfile.Result r = DecodeProfile.profile(g, "hello world", 9);
      // The prompt's forward is prefill, not a decode step: 9 tokens take 8 steps.
      assertEquals(8, r.recorder().steps());
      assertNull(DecodeProfile.recorder(), "off again afterwards");
      // One lm head matmul per step; the fused model runs 4 projection groups per layer,
      // each a matmul plus (for q/k/v and gate/up) a split.
      assertEquals(1.0, r.recorder().opsPerStep(DecodeProfile.Category.LM_HEAD));
      int layers = decoder.model().config().numHiddenLayers();
      assertEquals(6.0 * layers, r.recorder().opsPerStep(DecodeProfile.Category.PROJECTIONS));
      double attributed = 0;
      for (DecodeProfile.Category c : DecodeProfile.Category.values()) {
        attributed += r.recorder().msPerStep(c);
      }
      assertTrue(attributed > 0 && attributed <= r.recorder().stepMs() * 1.01);
      ByteArrayOutputStream bytes = new ByteArrayOutputStream();
      r.print(new PrintStream(bytes, true, StandardCharsets.UTF_8));
      String table = bytes.toString(StandardCharsets.UTF_8);
      for (DecodeProfile.Category c : DecodeProfile.Category.values()) {
        assertTrue(table.contains(c.label()), c.label());
      }
      assertTrue(table.contains("est. JNI + dispatch overhead"));
    }
  }
}
