package dev.editforge.llm.remote;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.editforge.config.ConfigReader;
import dev.editforge.config.SettingsException;
import java.time.Duration;
import org.junit.jupiter.api.Test;

class RemoteSettingsTest {
  // The block proposed for reference.conf, kept here so the two cannot drift apart silently.
  static final String REFERENCE =
      """
      editforge.remote {
        endpoint = "http://localhost:8000/v1"
        model = ""
        api-key-env = "OPENAI_API_KEY"
        max-concurrency = 16
        connect-timeout = 10s
        request-timeout = 120s
        max-retries = 4
        initial-backoff = 1s
        max-backoff = 60s
        max-row-seconds = 300
      }
      """;

  static RemoteSettings read(String overrides) {
    return dev.editforge.config.RuntimeSettings.remote(
        new ConfigReader(
                ConfigFactory.parseString(overrides)
                    .withFallback(ConfigFactory.parseString(REFERENCE))
                    .resolve(),
                "")
            .section("editforge.remote"));
  }

  @Test
  void defaultsMatchTheProgrammaticDefaults() {
    RemoteSettings s = read("");
    assertEquals(RemoteSettings.defaults(s.endpoint(), null), s);
    assertNull(s.model(), "empty model: the server's default");
    assertEquals(Duration.ofSeconds(120), s.requestTimeout());
    assertEquals(Duration.ofSeconds(300), s.maxRowTime());
    assertEquals(
        Duration.ofMillis(1500), read("editforge.remote.max-row-seconds = 1.5").maxRowTime());
  }

  @Test
  void overridesAreReadAndTheTrailingSlashDropped() {
    RemoteSettings s =
        read(
            "editforge.remote { endpoint = \"https://vllm.internal:443/v1/\", model = Qwen/Qwen2.5-7B-Instruct,"
                + " max-concurrency = 64, max-retries = 0, api-key-env = \"\" }");
    assertEquals("https://vllm.internal:443/v1", s.endpoint().toString());
    assertEquals("Qwen/Qwen2.5-7B-Instruct", s.model());
    assertEquals(64, s.maxConcurrency());
    assertEquals(0, s.maxRetries());
    assertNull(s.apiKeyEnv());
  }

  @Test
  void badValuesNameTheKey() {
    assertEquals(
        "editforge.remote.endpoint",
        assertThrows(
                SettingsException.class,
                () -> read("editforge.remote.endpoint = \"localhost:8000\""))
            .key());
    assertEquals(
        "editforge.remote.max-concurrency",
        assertThrows(SettingsException.class, () -> read("editforge.remote.max-concurrency = 0"))
            .key());
    assertEquals(
        "editforge.remote.request-timeout",
        assertThrows(SettingsException.class, () -> read("editforge.remote.request-timeout = 0s"))
            .key());
    assertEquals(
        "editforge.remote.max-row-seconds",
        assertThrows(SettingsException.class, () -> read("editforge.remote.max-row-seconds = 0"))
            .key());
    SettingsException e =
        assertThrows(SettingsException.class, () -> read("editforge.remote.max-backoff = 10ms"));
    assertEquals("editforge.remote.max-backoff", e.key());
    assertTrue(e.getMessage().contains("initial-backoff"), e.getMessage());
  }
}
