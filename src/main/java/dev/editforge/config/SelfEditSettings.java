package dev.editforge.config;

import dev.editforge.llm.SamplingParams;
import dev.editforge.text.SelfEditPrompts;
import java.util.List;
import java.util.Map;

/**
 * {@code editforge.generate.self-edit}: which template writes the self-edits and how they are
 * sampled. The defaults are SEAL's ({@code implications}, k = 5, temperature 1.0, top_p 0.95).
 */
public record SelfEditSettings(
    String promptKey,
    Map<String, String> templates,
    int k,
    double temperature,
    double topP,
    int maxNewTokens,
    long seed) {

  public SelfEditSettings {
    templates = Map.copyOf(templates);
  }

  public static SelfEditSettings from(ConfigReader r) {
    Map<String, String> templates = r.stringMap("templates");
    SelfEditPrompts prompts;
    try {
      prompts = new SelfEditPrompts(templates);
    } catch (IllegalArgumentException e) {
      throw new SettingsException(r.full("templates"), null, e.getMessage());
    }
    String key = r.oneOf("prompt-key", prompts.keys());
    return new SelfEditSettings(
        key,
        templates,
        r.integer("k", 1, 1000),
        r.number("temperature", 0.0, 10.0),
        r.number("top-p", Double.MIN_VALUE, 1.0),
        r.integer("max-new-tokens", 1, 1 << 20),
        r.longValue("seed", Long.MIN_VALUE, Long.MAX_VALUE));
  }

  public SelfEditPrompts prompts() {
    return new SelfEditPrompts(templates);
  }

  /** Sampling for one article's request: k completions drawn from one seeded stream. */
  public SamplingParams sampling() {
    return new SamplingParams(maxNewTokens, temperature, topP, 0, k, List.of(), List.of(), seed);
  }
}
