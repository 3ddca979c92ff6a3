package dev.editforge.config;

import java.util.List;

/**
 * {@code editforge.generate}: which model writes self-edits and reasoning traces, and how the work
 * is spread over executors. The local model's runtime (dtype, threads, context window, rows decoded
 * together, chat template) is {@code editforge.llm}. The prompt and sampling settings of each kind
 * live in {@link SelfEditSettings} ({@code generate.self-edit}) and {@link ReasoningSettings} plus
 * {@link #reasoningSampling()} ({@code generate.reasoning}).
 *
 * @param what what {@code editforge run} generates ({@code self-edits}, {@code reasoning})
 * @param backend {@code local} (DJL decoder on each executor) or {@code openai} (a remote server)
 * @param model local directory or hub id of the local model; "" = none configured, and {@code run}
 *     skips generating (with backend openai the served name is {@code editforge.remote.model})
 * @param chat true: the prompt is sent as one user message through the model's chat template (an
 *     instruct model); false (SEAL): the raw prompt is completed as is. The {@code prompt} column
 *     always holds the raw prompt
 * @param batchSize requests per generate call on one task (local: rows decoded together)
 * @param emptyRetries extra attempts (with a derived seed) for a blank completion before the row
 *     gets an error
 * @param gpusPerTask GPUs each generate task asks Spark for (stage-level scheduling); 0 = CPU
 * @param partitions partitions of the generate stage; 0 = Spark's default parallelism
 * @param chunkSize generation tasks per checkpointed chunk in {@code _work/}, so a killed run
 *     resumes
 * @param maxErrorFraction the share of self_edits rows that may carry an error before generate
 *     fails with exit 3 (reasoning has its own, {@link ReasoningSettings#maxErrorFraction()})
 */
public record GenerateSettings(
    List<String> what,
    String backend,
    String model,
    boolean chat,
    int batchSize,
    int emptyRetries,
    double gpusPerTask,
    int partitions,
    int chunkSize,
    MaxErrorFraction maxErrorFraction,
    ReasoningSampling reasoningSampling) {

  public static final String SELF_EDITS = "self-edits";
  public static final String REASONING = "reasoning";
  public static final List<String> WHATS = List.of(SELF_EDITS, REASONING);
  public static final List<String> BACKENDS = List.of("local", "openai");

  /** {@code generate.reasoning}'s sampling of traces and the agreeing-only filter. */
  public record ReasoningSampling(
      double temperature, double topP, int maxNewTokens, long seed, boolean onlyAgreeing) {}

  public GenerateSettings {
    what = List.copyOf(what);
  }

  public static GenerateSettings from(ConfigReader r) {
    List<String> what = r.strings("what");
    for (String w : what) {
      if (!WHATS.contains(w)) {
        throw new SettingsException(r.full("what"), what, "each entry must be one of " + WHATS);
      }
    }
    ConfigReader reasoning = r.section("reasoning");
    return new GenerateSettings(
        what,
        r.oneOf("backend", BACKENDS),
        r.string("model").strip(),
        r.bool("chat"),
        r.integer("batch-size", 1, 4096),
        r.integer("empty-retries", 0, 100),
        r.number("gpus-per-task", 0.0, 64.0),
        r.integer("partitions", 0, 1 << 20),
        r.integer("chunk-size", 1, 1 << 24),
        MaxErrorFraction.read(r, "max-error-fraction"),
        new ReasoningSampling(
            reasoning.number("temperature", 0.0, 10.0),
            reasoning.number("top-p", Double.MIN_VALUE, 1.0),
            reasoning.integer("max-new-tokens", 1, 1 << 20),
            reasoning.longValue("seed", Long.MIN_VALUE, Long.MAX_VALUE),
            reasoning.bool("only-agreeing")));
  }

  public boolean local() {
    return backend.equals("local");
  }
}
