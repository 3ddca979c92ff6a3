package dev.editforge.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.util.List;

/**
 * {@code editforge.critique}: the judge that labels Self-RAG's reflection tokens ({@code editforge
 * critique}). The judge is an OpenAI-compatible server ({@code backend = openai}, reached through
 * {@code editforge.remote}) or the local runtime ({@code backend = local}, {@code model} a
 * directory or hub id, run with {@code editforge.llm}).
 *
 * @param model local: directory or hub id; openai: served model name ("" = remote.model)
 * @param chat one user message to the chat endpoint, as Self-RAG's ChatCompletion call; false: the
 *     prompt as a plain completion
 * @param maxConcurrency requests in flight per endpoint on each executor
 * @param partitions tasks the calls fan out over; 0 = Spark's default parallelism
 * @param topN passages per sentence the relevance and support labels are asked for
 * @param threeWay multi-retrieval with {@code [Continue to Use Evidence]} (three-way template)
 * @param asWrittenThreeWaySwap Self-RAG's chatgpt_need_retrieval.py:132-141 picks the two-way
 *     template under {@code --three_way} and the three-way one without it; true reproduces that
 * @param exportSeed seeds combine_chat_gpt_reward.py's draws ([Relevant] kept w.p. {@code
 *     relevantKeep}, shuffle, dev split)
 */
public record CritiqueSettings(
    String backend,
    String model,
    boolean chat,
    int maxNewTokens,
    double temperature,
    int maxConcurrency,
    int partitions,
    int topN,
    boolean threeWay,
    boolean asWrittenThreeWaySwap,
    boolean export,
    int devSize,
    double relevantKeep,
    long exportSeed,
    MaxErrorFraction maxErrorFraction)
    implements java.io.Serializable {
  public static final List<String> BACKENDS = List.of("openai", "local");

  public static CritiqueSettings from(EditforgeSettings settings) {
    Config raw = settings.raw();
    ConfigReader r =
        new ConfigReader(
            raw.hasPath("editforge.critique")
                ? raw.getConfig("editforge.critique")
                : ConfigFactory.empty(),
            "editforge.critique");
    ConfigReader e = r.section("export");
    return new CritiqueSettings(
        r.oneOf("backend", BACKENDS),
        r.string("model").strip(),
        r.bool("chat"),
        r.integer("max-new-tokens", 1, 100_000),
        r.number("temperature", 0, 10),
        r.integer("max-concurrency", 1, 10_000),
        r.integer("partitions", 0, 1_000_000),
        r.integer("top-n", 1, 1000),
        r.bool("three-way"),
        r.bool("as-written-three-way-swap"),
        e.bool("enabled"),
        e.integer("dev-size", 0, Integer.MAX_VALUE),
        e.number("relevant-keep", 0, 1),
        e.longValue("seed", Long.MIN_VALUE, Long.MAX_VALUE),
        MaxErrorFraction.read(r, "max-error-fraction"));
  }

  public boolean local() {
    return backend.equals("local");
  }

  /** The template the multi-retrieval label is asked with: three-way unless the swap flips it. */
  public boolean threeWayTemplate() {
    return asWrittenThreeWaySwap != threeWay;
  }
}
