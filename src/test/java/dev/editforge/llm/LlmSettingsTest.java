package dev.editforge.llm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.editforge.config.ConfigReader;
import dev.editforge.config.SettingsException;
import org.junit.jupiter.api.Test;

class LlmSettingsTest {
  private static final String DEFAULTS =
      "max-batch-size = 16\ncontext-window = 0\ntruncate-prompt = false\nchat-template = model\n"
          + "dtype = auto\nthreads = 0\nmax-kv-cache-mb = 4096\n";

  private static LlmSettings read(String overrides) {
    return dev.editforge.config.RuntimeSettings.llm(
        new ConfigReader(
            ConfigFactory.parseString(overrides).withFallback(ConfigFactory.parseString(DEFAULTS)),
            "editforge.llm"));
  }

  @Test
  void defaultsMatchTheProposedReferenceConf() {
    assertEquals(LlmSettings.defaults(), read(""));
  }

  @Test
  void readsEveryKey() {
    LlmSettings s =
        read(
            "max-batch-size = 4, context-window = 2048, truncate-prompt = true, chat-template = chatml,"
                + " dtype = float32, threads = 2, max-kv-cache-mb = 300");
    assertEquals(new LlmSettings(4, 2048, true, "chatml", "float32", 2, 300), s);
  }

  @Test
  void badValuesNameTheKeyAndTheChoices() {
    SettingsException e =
        assertThrows(SettingsException.class, () -> read("chat-template = zephyr"));
    assertTrue(
        e.getMessage().contains("editforge.llm.chat-template") && e.getMessage().contains("chatml"),
        e.getMessage());
    e = assertThrows(SettingsException.class, () -> read("max-batch-size = 0"));
    assertTrue(e.getMessage().contains("editforge.llm.max-batch-size"), e.getMessage());
    e = assertThrows(SettingsException.class, () -> read("max-kv-cache-mb = 0"));
    assertTrue(e.getMessage().contains("editforge.llm.max-kv-cache-mb"), e.getMessage());
    e = assertThrows(SettingsException.class, () -> read("dtype = bfloat16"));
    assertTrue(e.getMessage().contains("float16"), e.getMessage());
  }
}
