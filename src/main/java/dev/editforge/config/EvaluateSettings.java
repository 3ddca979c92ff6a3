package dev.editforge.config;

import java.io.Serializable;

/**
 * {@code editforge.evaluate}: no-context QA accuracy of the base and the tuned model on held-out
 * articles. Empty {@code model}/{@code tuned}/{@code articles} fall back to the finetune model,
 * this run's {@code finetune/merged} and this run's {@code articles} table.
 *
 * @param protocol {@code qa} (base vs tuned, no context) or {@code seal} (SEAL's Table 2: no
 *     training, passage only, base-model edits, policy edits; the {@code evaluation_seal} table) or
 *     {@code selfrag} (Self-RAG's match accuracy per retrieval mode; editforge.selfrag.*)
 * @param policy the model that writes the policy edits of the seal protocol; "" = none
 * @param chatTemplate {@code none} (the raw answer prompt, SEAL's base-model protocol), {@code
 *     model} or a built-in name
 */
public record EvaluateSettings(
    String model,
    String tuned,
    String articles,
    int maxArticles,
    int maxNewTokens,
    int batchSize,
    String chatTemplate,
    int gpus,
    String dtype,
    int threads,
    String protocol,
    String policy)
    implements Serializable {

  public static final java.util.List<String> PROTOCOLS = java.util.List.of("qa", "seal", "selfrag");

  public static EvaluateSettings from(ConfigReader r) {
    return new EvaluateSettings(
        r.string("model"),
        r.string("tuned"),
        r.string("articles"),
        r.integer("max-articles", 0, Integer.MAX_VALUE),
        r.integer("max-new-tokens", 1, 1 << 16),
        r.integer("batch-size", 1, 4096),
        r.oneOf("chat-template", FinetuneSettings.chatTemplates()),
        r.integer("gpus", 0, 64),
        r.oneOf("dtype", java.util.List.of("auto", "float32", "float16")),
        r.integer("threads", 0, 1024),
        r.oneOf("protocol", PROTOCOLS),
        r.string("policy"));
  }
}
