package dev.editforge.ttt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.editforge.config.ConfigLoader;
import dev.editforge.config.ConfigReader;
import dev.editforge.config.EditforgeSettings;
import dev.editforge.config.ScoreSettings;
import dev.editforge.config.SettingsException;
import java.util.List;
import org.junit.jupiter.api.Test;

class ScoreSettingsTest {
  static ScoreSettings load(String... sets) {
    return ScoreSettings.from(EditforgeSettings.from(ConfigLoader.referenceOnly(List.of(sets))));
  }

  @Test
  void referenceDefaultsAreSeals() {
    ScoreSettings s = load();
    assertEquals("Qwen/Qwen2.5-7B", s.model());
    assertEquals(3, s.evalTimes());
    assertEquals(42L, s.seed());
    assertEquals(4, s.commitEvery());
    assertEquals(ScoreSettings.Mode.LOCAL, s.mode());
    assertEquals("auto", s.device());
    assertEquals(ScoreSettings.Lora.seal(42), s.lora());
    assertEquals(0.5, s.maxErrorFraction().value());
    assertEquals("editforge.ttt.max-error-fraction", s.maxErrorFraction().key());
  }

  @Test
  void badValuesNameTheirKey() {
    SettingsException e = assertThrows(SettingsException.class, () -> load("ttt.device=gpu0"));
    assertTrue(e.getMessage().contains("editforge.ttt.device"), e.getMessage());
    assertThrows(SettingsException.class, () -> load("ttt.mode=remote"));
    assertThrows(SettingsException.class, () -> load("ttt.commit-every=0"));
    assertEquals("gpu:1", load("ttt.device=gpu:1").device());
    SettingsException f =
        assertThrows(SettingsException.class, () -> load("ttt.max-error-fraction=1.5"));
    assertTrue(f.getMessage().contains("editforge.ttt.max-error-fraction"), f.getMessage());
  }

  @Test
  void theLoraStructFollowsTheTrainerKeysWhenTheyExist() {
    ScoreSettings s =
        ScoreSettings.from(
            new ConfigReader(
                ConfigFactory.parseString(
                    "model = m, eval-times = 1, seed = 7, commit-every = 1, mode = vllm, device = cpu, "
                        + "epochs = 2, lr = 0.01, lora { rank = 8, alpha = 16, dropout = 0.1, targets = [q_proj] }"),
                "editforge.ttt"),
            "exact",
            "http://h:1/v1");
    assertEquals(new ScoreSettings.Lora(8, 16.0, 0.1, List.of("q_proj"), 2, 0.01, 7), s.lora());
    assertEquals(ScoreSettings.Mode.VLLM, s.mode());
  }
}
