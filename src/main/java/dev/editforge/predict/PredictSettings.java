package dev.editforge.predict;

import dev.editforge.config.ConfigReader;
import dev.editforge.config.EditforgeSettings;
import dev.editforge.config.FinetuneSettings;
import dev.editforge.config.SettingsException;
import dev.editforge.llm.LlmSettings;
import java.io.Serializable;
import java.util.List;

/**
 * {@code editforge.predict}: how {@code editforge predict} answers unlabeled logic problems with
 * the tuned model. The defaults are seed 004's inference: {@code voter} = 3 sampled answers per
 * question, {@code attempts} = 2, {@code fallback} = "C", responses cut at {@code cut-at}.
 *
 * @param input {@code logic:FILE}, the problems to answer (JSONL, local path or Hadoop URI)
 * @param model the model that answers; "" = this run's {@code finetune/merged}
 * @param chatTemplate {@code none}: the inference prompt as raw text, as the seed trains on raw
 *     text; {@code model} or a built-in name: the prompt as one user message
 */
public record PredictSettings(
    String input,
    String model,
    int voter,
    int attempts,
    String fallback,
    List<String> cutAt,
    double temperature,
    double topP,
    int topK,
    int maxNewTokens,
    long seed,
    String chatTemplate,
    int batchSize,
    int gpus,
    String dtype,
    int threads,
    String submission)
    implements Serializable {

  public PredictSettings {
    cutAt = List.copyOf(cutAt);
  }

  /** Read once at start by the CLI, so a bad value exits 2 before any work. */
  public static PredictSettings of(EditforgeSettings settings) {
    return from(
        new ConfigReader(settings.raw().getConfig("editforge"), "editforge").section("predict"));
  }

  public static PredictSettings from(ConfigReader r) {
    String fallback = r.string("fallback");
    if (!fallback.matches("[A-Z]")) {
      throw new SettingsException(r.full("fallback"), fallback, "must be one option letter A-Z");
    }
    List<String> cutAt = r.strings("cut-at");
    if (cutAt.stream().anyMatch(String::isEmpty)) {
      throw new SettingsException(r.full("cut-at"), cutAt, "a cut string must not be empty");
    }
    String submission = r.nonEmpty("submission");
    if (submission.contains("/") || submission.startsWith("_") || submission.startsWith(".")) {
      throw new SettingsException(
          r.full("submission"), submission, "a plain file name (no '/', not starting with _ or .)");
    }
    return new PredictSettings(
        r.string("input"),
        r.string("model"),
        r.integer("voter", 1, 1000),
        r.integer("attempts", 1, 100),
        fallback,
        cutAt,
        r.number("temperature", 0.0, 10.0),
        r.number("top-p", Double.MIN_VALUE, 1.0),
        r.integer("top-k", 0, 1_000_000),
        r.integer("max-new-tokens", 1, 1 << 20),
        r.longValue("seed", Long.MIN_VALUE, Long.MAX_VALUE),
        r.oneOf("chat-template", FinetuneSettings.chatTemplates()),
        r.integer("batch-size", 1, 4096),
        r.integer("gpus", 0, 64),
        r.oneOf("dtype", LlmSettings.DTYPES),
        r.integer("threads", 0, 1024),
        submission);
  }

  public boolean chat() {
    return !chatTemplate.equals("none");
  }
}
