package dev.editforge.cli;

import dev.editforge.config.SettingsException;
import dev.editforge.spark.ExitCodes;
import java.io.PrintStream;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/**
 * {@code editforge bench <name>}: a registry of named benchmarks. Each prints readable tables of
 * ratios measured in one run and ends with one machine-readable line {@code BENCH <name> key=value
 * ...} (numbers plain, ratios as decimals). Add one with {@link #register}.
 */
@Command(
    name = "bench",
    description = {
      "Run a named benchmark and print its result; the last line is `BENCH <name> key=value ...`.",
      "Benchmarks: llm (decoder tok/s and memory; --param preset=llama2c for the llama2.c comparison model, model=DIR for a local HF model, vocab/hidden/intermediate/layers/heads/kv-heads/threads/tokens/prompt/prefill/batch/kv-tokens/rounds to reshape or rerun it), retrieval (Spark embed vs bare loop, HNSW recall fp32/int8, SQuAD-dev top-k), generate (Spark stage vs bare generator loop, remote prompts/s), scaling (embed + generate on a local standalone cluster, two one-core workers vs one; needs target/editforge.jar), ttt (multi-adapter vs one-at-a-time test-time training), batching (seed 003: GPT-2 full-parameter instruction tuning with padding / packed / concat / bfd batching) incremental (embed and index reruns after a 1%% change vs a full run) and demo (the demo's wall and CPU time per stage on a random model of Qwen2.5-0.5B-Instruct's size)."
    },
    footer = {
      "%nExamples:",
      "  editforge bench llm",
      "  editforge bench llm --param preset=llama2c",
      "  editforge bench llm --param model=/models/Qwen2.5-0.5B-Instruct"
    })
public final class BenchCommand extends StageCommand {
  /** One benchmark: prints its tables and returns the fields of its BENCH line. */
  public interface Bench {
    String description();

    /** Settings this bench needs (e.g. its own run dir and model), set before the launch. */
    default Map<String, Object> overrides(Map<String, String> params) {
      return Map.of();
    }

    /** Runs it; returns the fields of its BENCH line, or null when it printed that line itself. */
    Map<String, Object> run(Launch launch, Map<String, String> params, PrintStream out)
        throws Exception;
  }

  private static final Map<String, Bench> BENCHES = new LinkedHashMap<>();

  static {
    register("retrieval", new dev.editforge.cli.RetrievalBenchRunner());
    register("generate", new dev.editforge.cli.GenerateBenchRunner());
    register("scaling", new ScalingBenchRunner());
    register("incremental", new IncrementalBenchRunner());
    register("demo", new DemoBenchRunner());
    register(
        "ttt",
        new Bench() {
          @Override
          public String description() {
            return "edits scored per minute with multi-adapter batching vs one adapter at a time,"
                + " training FLOP utilization, two concurrent trainers vs one, answer tokens/s";
          }

          @Override
          public Map<String, Object> run(
              Launch launch, Map<String, String> params, PrintStream out) {
            try {
              dev.editforge.ttt.TttBench.checkParams(params);
            } catch (IllegalArgumentException e) {
              throw new SettingsException(e.getMessage());
            }
            dev.editforge.ttt.TttBench.run(out, params);
            return null;
          }
        });
    register(
        "batching",
        new Bench() {
          @Override
          public String description() {
            return "GPT-2 instruction tuning: padding / packed / concat / bfd tokens/s, padding, validation loss";
          }

          @Override
          public Map<String, Object> run(Launch launch, Map<String, String> params, PrintStream out)
              throws Exception {
            return dev.editforge.finetune.BatchingBench.run(params, out);
          }
        });
    register(
        "llm",
        new Bench() {
          @Override
          public String description() {
            return "decoder tokens/s (batch 1, batch 16, prefill), batch-16 and KV-cache speedups,"
                + " RSS above the runtime; params: "
                + dev.editforge.llm.LlmBench.PARAMS_HELP;
          }

          @Override
          public Map<String, Object> run(
              Launch launch, Map<String, String> params, PrintStream out) {
            dev.editforge.llm.LlmBench.Options options;
            try {
              options = dev.editforge.llm.LlmBench.Options.fromParams(params);
            } catch (IllegalArgumentException e) {
              throw new SettingsException(e.getMessage());
            }
            dev.editforge.llm.LlmBench.measure(out, options);
            return null;
          }
        });
  }

  public static synchronized void register(String name, Bench bench) {
    BENCHES.put(name, bench);
  }

  public static synchronized Map<String, Bench> benches() {
    return Map.copyOf(BENCHES);
  }

  @Parameters(index = "0", paramLabel = "NAME", description = "Which benchmark (retrieval, ...)")
  String name;

  @Option(
      names = "--param",
      paramLabel = "KEY=VALUE",
      description = "A benchmark parameter, e.g. passages=2000")
  Map<String, String> params = new LinkedHashMap<>();

  @Override
  public Map<String, Object> flagOverrides() {
    return bench().overrides(params);
  }

  private Bench bench() {
    Bench b = benches().get(name);
    if (b == null) {
      throw new SettingsException(
          "unknown bench "
              + name
              + "; benches: "
              + BENCHES.keySet().stream().sorted().collect(Collectors.joining(", ")));
    }
    return b;
  }

  @Override
  protected int execute(Launch launch) throws Exception {
    Map<String, Object> fields = bench().run(launch, params, console());
    if (fields != null) {
      console().println(benchLine(name, fields));
    }
    return ExitCodes.OK;
  }

  /** {@code BENCH <name> k=v ...}: doubles plain (no exponent), everything else as its string. */
  public static String benchLine(String name, Map<String, Object> fields) {
    StringBuilder sb = new StringBuilder("BENCH ").append(name);
    for (Map.Entry<String, Object> e : fields.entrySet()) {
      Object v = e.getValue();
      String s =
          v instanceof Double d
              ? new java.math.BigDecimal(d)
                  .round(new java.math.MathContext(6))
                  .stripTrailingZeros()
                  .toPlainString()
              : String.valueOf(v);
      sb.append(' ').append(e.getKey()).append('=').append(s.replace(' ', '_'));
    }
    return sb.toString();
  }

  static String fmt(double v) {
    return String.format(Locale.ROOT, "%.4f", v);
  }
}
