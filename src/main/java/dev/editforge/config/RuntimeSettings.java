package dev.editforge.config;

import dev.editforge.judge.JudgeSettings;
import dev.editforge.llm.ChatTemplate;
import dev.editforge.llm.LlmSettings;
import dev.editforge.llm.remote.RemoteSettings;
import java.net.URI;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Readers of the runtime libraries' settings ({@code editforge.llm}, {@code editforge.remote},
 * {@code editforge.judge}). The records live beside the code that uses them; reading and validating
 * config stays here, so the runtime libraries never import config.
 */
public final class RuntimeSettings {
  private RuntimeSettings() {}

  /** Reads the {@code editforge.llm} section. */
  public static LlmSettings llm(ConfigReader r) {
    List<String> templates = new ArrayList<>();
    templates.add("model");
    templates.addAll(ChatTemplate.BUILT_IN_NAMES);
    String template = r.oneOf("chat-template", templates);
    try {
      return new LlmSettings(
          r.integer("max-batch-size", 1, 4096),
          r.integer("context-window", 0, 1 << 24),
          r.bool("truncate-prompt"),
          template,
          r.oneOf("dtype", LlmSettings.DTYPES),
          r.integer("threads", 0, 1024),
          r.integer("max-kv-cache-mb", 1, 1 << 24));
    } catch (IllegalArgumentException e) {
      throw new SettingsException(e.getMessage());
    }
  }

  /** Reads {@code editforge.remote}. */
  public static RemoteSettings remote(ConfigReader r) {
    String endpointText = r.nonEmpty("endpoint");
    URI endpoint;
    try {
      endpoint = URI.create(endpointText.trim());
    } catch (IllegalArgumentException e) {
      throw new SettingsException(
          r.full("endpoint"), endpointText, "must be an http(s) URL such as http://host:8000/v1");
    }
    if (!"http".equals(endpoint.getScheme()) && !"https".equals(endpoint.getScheme())
        || endpoint.getHost() == null) {
      throw new SettingsException(
          r.full("endpoint"), endpointText, "must be an http(s) URL such as http://host:8000/v1");
    }
    Duration connect = positiveDuration(r, "connect-timeout");
    Duration request = positiveDuration(r, "request-timeout");
    Duration initial = r.duration("initial-backoff");
    Duration max = r.duration("max-backoff");
    if (initial.isNegative()) {
      throw new SettingsException(r.full("initial-backoff"), initial.toString(), "must be >= 0");
    }
    if (max.compareTo(initial) < 0) {
      throw new SettingsException(
          r.full("max-backoff"), max.toString(), "must be >= initial-backoff (" + initial + ")");
    }
    double rowSeconds = r.number("max-row-seconds", 0.0, 7 * 24 * 3600.0);
    if (rowSeconds <= 0) {
      throw new SettingsException(
          r.full("max-row-seconds"), Double.toString(rowSeconds), "must be > 0 seconds");
    }
    return new RemoteSettings(
        endpoint,
        r.optionalString("model"),
        r.optionalString("api-key-env"),
        r.integer("max-concurrency", 1, 4096),
        connect,
        request,
        r.integer("max-retries", 0, 100),
        initial,
        max,
        Duration.ofMillis(Math.round(rowSeconds * 1000)));
  }

  /** Reads {@code editforge.judge}. */
  public static JudgeSettings judge(ConfigReader r) {
    return new JudgeSettings(
        r.oneOf("kind", JudgeSettings.kinds()),
        r.number("f1-threshold", 0.0, 1.0),
        r.number("recall-threshold", 0.0, 1.0),
        r.nonEmpty("llm.model"));
  }

  private static Duration positiveDuration(ConfigReader r, String key) {
    Duration d = r.duration(key);
    if (d.isNegative() || d.isZero()) {
      throw new SettingsException(
          r.full(key), d.toString(), "must be a positive duration such as 30s");
    }
    return d;
  }
}
