package dev.editforge.ttt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.editforge.config.ConfigReader;
import dev.editforge.config.EditforgeSettings;
import dev.editforge.config.SettingsException;
import dev.editforge.config.TttSettings;
import dev.editforge.lora.LoraConfig;
import dev.editforge.lora.TrainSettings;
import java.util.List;
import org.junit.jupiter.api.Test;

/** reference.conf's editforge.ttt block is SEAL's inner loop and validates bad values. */
class TttSettingsTest {
  private static TttSettings read(String overrides) {
    Config c =
        ConfigFactory.parseString(overrides)
            .withFallback(ConfigFactory.defaultReference())
            .resolve();
    return TttSettings.from(new ConfigReader(c.getConfig("editforge.ttt"), "editforge.ttt"));
  }

  @Test
  void referenceConfIsSealsInnerLoop() {
    TttSettings s = read("");
    assertEquals(TttSettings.seal(), s);
    assertEquals(LoraConfig.seal(), s.lora());
    assertEquals(2.0, s.lora().scaling());
    TrainSettings t = s.train();
    assertEquals(10, t.epochs());
    assertEquals(1e-3, t.learningRate());
    assertEquals(TrainSettings.Schedule.LINEAR, t.schedule());
    assertEquals(
        1e-3, t.learningRateAt(0, 80), 1e-15, "no warm-up: the first step uses the peak rate");
    assertEquals(1e-3 / 80, t.learningRateAt(79, 80), 1e-15, "linear decay towards 0");
    assertEquals(64, s.maxNewTokens());
    assertEquals(3, s.evalTimes());
    EditforgeSettings all = EditforgeSettings.from(ConfigFactory.defaultReference().resolve());
    assertEquals(s, all.ttt());
  }

  @Test
  void overridesAndValidation() {
    TttSettings s =
        read("editforge.ttt { lora.targets = [all-linear], schedule = cosine, pad-to = longest }");
    assertEquals(7, s.lora().projections().size());
    assertEquals(TrainSettings.Schedule.COSINE, s.schedule());
    assertEquals(TrainSettings.PadTo.LONGEST, s.padTo());
    assertEquals(
        List.of("q_proj", "o_proj"),
        read("editforge.ttt.lora.targets = \"q_proj,o_proj\"").lora().targets());
    SettingsException e =
        assertThrows(SettingsException.class, () -> read("editforge.ttt.lora.targets = [qproj]"));
    assertTrue(e.getMessage().contains("editforge.ttt.lora.targets"), e.getMessage());
    assertThrows(SettingsException.class, () -> read("editforge.ttt.schedule = exponential"));
    assertThrows(SettingsException.class, () -> read("editforge.ttt.epochs = 0"));
  }
}
