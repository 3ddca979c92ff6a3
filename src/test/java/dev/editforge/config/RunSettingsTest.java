package dev.editforge.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class RunSettingsTest {
  static RunSettings of(String timeout) {
    return RunSettings.from(
        new ConfigReader(ConfigFactory.parseString("lock-timeout = " + timeout), "editforge.run"));
  }

  @Test
  void theLockTimeoutIsAPositiveDuration() {
    assertEquals(Duration.ofHours(24), of("24h").lockTimeout());
    SettingsException zero = assertThrows(SettingsException.class, () -> of("0s"));
    assertTrue(
        zero.getMessage().startsWith("invalid setting editforge.run.lock-timeout"),
        zero.getMessage());
    SettingsException word = assertThrows(SettingsException.class, () -> of("soon"));
    assertTrue(word.getMessage().contains("\"soon\""), word.getMessage());
  }
}
