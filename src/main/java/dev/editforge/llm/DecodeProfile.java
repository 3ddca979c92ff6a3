package dev.editforge.llm;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import ai.djl.pytorch.jni.JniUtils;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * Where a batch-1 decode step's time goes. Opt-in: {@link DecoderModel} and {@link LocalGenerator}
 * ask {@link #recorder()} once per step, which is a read of one static field while no profile runs,
 * so the hooks cost nothing when off. While {@link #profile} runs on a thread, that thread's
 * single-position forwards and decode steps add {@code System.nanoTime()} laps per category. CPU
 * ops run synchronously, so a lap is the op group's real cost (on a GPU it would only be the
 * launch: the profile is meant for CPU).
 *
 * <p>JNI and dispatch overhead is not timed but estimated: the number of engine ops a step issues
 * (counted at the same hooks) times the measured cost of a trivial op (a one-element add).
 *
 * <p>Thread-safe: recording is per thread.
 */
public final class DecodeProfile {
  /** What a lap is charged to. */
  public enum Category {
    EMBED("embedding lookup"),
    PROJECTIONS("matmul: q/k/v/o, gate/up/down"),
    LM_HEAD("matmul: lm head"),
    ROPE("RoPE (tables + rotation)"),
    ATTENTION("attention: scores, softmax, sum"),
    KV_WRITE("KV cache: write + views"),
    NORM_ELEMENTWISE("RMSNorm, SwiGLU, residuals"),
    STEP_SETUP("step inputs, scopes"),
    SAMPLING("sampling: argmax + host copy"),
    DETOKENIZE("detokenize + stop checks");

    private final String label;

    Category(String label) {
      this.label = label;
    }

    public String label() {
      return label;
    }
  }

  /** One thread's accumulated laps. Not thread-safe: used by the thread that created it. */
  public static final class Recorder {
    private final long[] nanos = new long[Category.values().length];
    private final long[] ops = new long[Category.values().length];
    private long stepNanos;
    private int steps;

    /** Charges {@code now - since} to {@code c} with {@code engineOps} ops; returns now. */
    public long lap(Category c, long since, int engineOps) {
      long now = System.nanoTime();
      nanos[c.ordinal()] += now - since;
      ops[c.ordinal()] += engineOps;
      return now;
    }

    /** Counts one whole decode step that began at {@code since}. */
    public void step(long since) {
      stepNanos += System.nanoTime() - since;
      steps++;
    }

    public int steps() {
      return steps;
    }

    public double msPerStep(Category c) {
      return steps == 0 ? 0 : nanos[c.ordinal()] / 1e6 / steps;
    }

    public double opsPerStep(Category c) {
      return steps == 0 ? 0 : (double) ops[c.ordinal()] / steps;
    }

    public double stepMs() {
      return steps == 0 ? 0 : stepNanos / 1e6 / steps;
    }
  }

  private static final ThreadLocal<Recorder> LOCAL = new ThreadLocal<>();

  /** Threads recording right now; zero almost always, so {@link #recorder()} is one field read. */
  private static volatile int recording;

  private DecodeProfile() {}

  /** This thread's recorder while {@link #profile} runs on it, else null. */
  public static Recorder recorder() {
    return recording == 0 ? null : LOCAL.get();
  }

  /** A finished profile: per-category ms per step, the measured step and the JNI estimate. */
  public record Result(
      Recorder recorder, double trivialOpMicros, double tokensPerSecond, int batch) {
    public double totalOps() {
      double n = 0;
      for (Category c : Category.values()) {
        n += recorder.opsPerStep(c);
      }
      return n;
    }

    /** Prints the table: category, ms per step, % of the step, engine ops per step. */
    public void print(PrintStream out) {
      double step = recorder.stepMs();
      out.printf(
          Locale.ROOT,
          "  decode step profile (batch %d): %.2f ms/step (%.1f tok/s decode), %d steps%n",
          batch,
          step,
          tokensPerSecond,
          recorder.steps());
      out.printf(Locale.ROOT, "    %-34s %9s %7s %8s%n", "category", "ms/step", "%", "ops/step");
      double counted = 0;
      for (Category c : Category.values()) {
        double ms = recorder.msPerStep(c);
        counted += ms;
        out.printf(
            Locale.ROOT,
            "    %-34s %9.3f %6.1f%% %8.0f%n",
            c.label(),
            ms,
            100 * ms / step,
            recorder.opsPerStep(c));
      }
      double rest = Math.max(0, step - counted);
      out.printf(
          Locale.ROOT,
          "    %-34s %9.3f %6.1f%%%n",
          "unattributed (loop, GC)",
          rest,
          100 * rest / step);
      double jni = totalOps() * trivialOpMicros / 1000;
      out.printf(
          Locale.ROOT,
          "    %-34s %9.3f %6.1f%%   (%.0f ops x %.2f us, part of the rows above)%n",
          "est. JNI + dispatch overhead",
          jni,
          100 * jni / step,
          totalOps(),
          trivialOpMicros);
    }
  }

  /**
   * Profiles greedy decoding of {@code newTokens} tokens after {@code prompt} with one request
   * (batch 1): one warm-up run, one recorded run.
   */
  public static Result profile(LocalGenerator generator, String prompt, int newTokens) {
    return profile(generator, List.of(prompt), newTokens);
  }

  /**
   * As {@link #profile(LocalGenerator, String, int)} with one row per prompt (one decode batch when
   * the generator's max batch size allows): a step then decodes a token for every row.
   */
  public static Result profile(LocalGenerator generator, List<String> prompts, int newTokens) {
    List<GenerationRequest> one = new ArrayList<>();
    for (int i = 0; i < prompts.size(); i++) {
      one.add(
          GenerationRequest.text("profile" + i, prompts.get(i), SamplingParams.greedy(newTokens)));
    }
    return record(
        () -> generator.generate(one), prompts.size(), generator.decoder().model().device());
  }

  /**
   * As {@link #profile(LocalGenerator, List, int)} on token-id prompts through {@link
   * LocalGenerator#greedyIds} (no stop ids, so every row decodes {@code newTokens}).
   */
  public static Result profile(DecoderModel model, List<int[]> prompts, int newTokens) {
    return record(
        () -> LocalGenerator.greedyIds(model, prompts, newTokens, Set.of(), null),
        prompts.size(),
        model.device());
  }

  /** One warm-up run of {@code decode}, then one recorded run. */
  private static Result record(Runnable decode, int rows, Device device) {
    decode.run();
    Recorder rec = new Recorder();
    LOCAL.set(rec);
    synchronized (DecodeProfile.class) {
      recording++;
    }
    long t;
    try {
      t = System.nanoTime();
      decode.run();
      t = System.nanoTime() - t;
    } finally {
      synchronized (DecodeProfile.class) {
        recording--;
      }
      LOCAL.remove();
    }
    double tokS = (double) rec.steps() * rows / (rec.stepNanos / 1e9);
    return new Result(rec, trivialOpMicros(device), t > 0 ? tokS : 0, rows);
  }

  /** Microseconds of one trivial engine op (a one-element add in a scope), best of 5 rounds. */
  static double trivialOpMicros(Device device) {
    double best = Double.MAX_VALUE;
    try (NDManager m = NDManager.newBaseManager(device, "PyTorch")) {
      NDArray a = m.create(new float[] {1f});
      NDArray b = m.create(new float[] {2f});
      for (int round = 0; round < 5; round++) {
        int n = 2000;
        long t = System.nanoTime();
        try (NDScope scope = new NDScope()) {
          for (int i = 0; i < n; i++) {
            a.add(b);
          }
        }
        best = Math.min(best, (System.nanoTime() - t) / 1e3 / n);
      }
    }
    return best;
  }

  /**
   * Batch-1 greedy decode speed of {@code generator}: tokens per second of {@code newTokens}
   * decoded after {@code prompt}, prompt processing excluded (a 1-token run is subtracted).
   */
  public static double decodeTokensPerSecond(
      LocalGenerator generator, String prompt, int newTokens) {
    double full = time(generator, prompt, newTokens);
    double prefill = time(generator, prompt, 1);
    return (newTokens - 1) / Math.max(1e-9, full - prefill);
  }

  private static double time(LocalGenerator g, String prompt, int n) {
    long t = System.nanoTime();
    List<GenerationResult> r =
        g.generate(List.of(GenerationRequest.text("t", prompt, SamplingParams.greedy(n))));
    double s = (System.nanoTime() - t) / 1e9;
    if (!r.get(0).ok() || r.get(0).completions().get(0).completionTokens() != n) {
      throw new IllegalStateException("profile run did not produce " + n + " tokens: " + r);
    }
    return s;
  }

  private static void variant(boolean[] flags) {
    DecoderModel.ropeTablesEnabled = flags[0];
    KvCache.directOps = flags[1];
  }

  /** The 1-minute load average, or -1 off Linux. */
  public static double loadAverage() {
    try {
      return Double.parseDouble(Files.readString(Path.of("/proc/loadavg")).split(" ")[0]);
    } catch (IOException | RuntimeException e) {
      return -1;
    }
  }

  /**
   * The llama2.c comparison: a random Llama of dim 768, hidden 2048, 8 layers, 12 heads (all KV),
   * vocab 512, fp32, CPU, one engine thread; prints best-of-{@code args[0]} (default 5) batch-1
   * decode tok/s for 256 new tokens and the step profile. Run with the test classpath.
   */
  public static void main(String[] args) throws IOException {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 5;
    Path dir = Files.createTempDirectory("editforge-decode-profile");
    DjlOffline.ensure();
    Engine.getEngine("PyTorch");
    JniUtils.setNumThreads(1);
    // -Deditforge.profile.bench=true: bench llm's standard model (vocab 32000, 4 KV heads).
    boolean bench = Boolean.getBoolean("editforge.profile.bench");
    int vocab = bench ? 32000 : 512;
    ModelConfig config =
        new ModelConfig(
            "llama",
            vocab,
            768,
            2048,
            8,
            12,
            bench ? 4 : 12,
            64,
            1e-5,
            bench ? 500000.0 : 10000.0,
            null,
            1024,
            bench,
            false,
            false,
            false,
            0,
            -1,
            List.of());
    RandomDecoderWriter.write(dir, config, 7);
    TinyTokenizerWriter.writeWordLevel(dir, vocab);
    Files.writeString(dir.resolve("tokenizer_config.json"), "{}");
    LlmSettings settings = LlmSettings.defaults().withMaxBatchSize(1).withThreads(1);
    String prompt = "t1 t2 t3 t4 t5";
    try (LoadedDecoder decoder = DecoderLoader.load(dir, Device.cpu(), settings);
        LocalGenerator g = new LocalGenerator(decoder, settings, false);
        LoadedDecoder plain =
            new LoadedDecoder(
                DecoderModel.load(dir, Device.cpu(), ai.djl.ndarray.types.DataType.FLOAT32, false),
                LlmTokenizer.load(dir),
                "unfused");
        LocalGenerator u = new LocalGenerator(plain, settings, false)) {
      if (Boolean.getBoolean("editforge.profile.batch16")) {
        List<String> many = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
          many.add("t" + (i + 1) + " t" + (i + 7) + " t" + (i + 30) + " t4 t5");
        }
        try (LocalGenerator g16 =
            new LocalGenerator(decoder, settings.withMaxBatchSize(16), false)) {
          profile(g16, List.of(prompt), 64).print(System.out);
          profile(g16, many, 64).print(System.out);
        }
        return;
      }
      // Variants, alternated round by round: each against the one before it.
      String[] names = {
        "before: unfused, RoPE per step, NDIndex KV ops",
        "fused q/k/v + gate/up",
        "+ RoPE tables per cache",
        "+ direct libtorch KV slice ops"
      };
      LocalGenerator[] gens = {u, g, g, g};
      boolean[][] flags = {{false, false}, {false, false}, {true, false}, {true, true}};
      List<List<Double>> rates = new ArrayList<>();
      for (int v = 0; v < names.length; v++) {
        rates.add(new ArrayList<>());
        variant(flags[v]);
        time(gens[v], prompt, 8);
      }
      for (int i = 0; i < rounds; i++) {
        for (int v = 0; v < names.length; v++) {
          variant(flags[v]);
          rates.get(v).add(decodeTokensPerSecond(gens[v], prompt, 256));
        }
      }
      System.out.printf(
          Locale.ROOT,
          "decode batch 1, 256 new tokens, 1 engine thread, best of %d alternating rounds"
              + " (load %.2f):%n",
          rounds,
          loadAverage());
      for (int v = 0; v < names.length; v++) {
        System.out.printf(
            Locale.ROOT,
            "  %-48s %6.1f tok/s  (median %.1f)%n",
            names[v],
            rates.get(v).stream().mapToDouble(Double::doubleValue).max().orElse(0),
            rates.get(v).stream()
                .mapToDouble(Double::doubleValue)
                .sorted()
                .skip(rounds / 2)
                .findFirst()
                .orElse(0));
      }
      variant(flags[0]);
      System.out.println("before:");
      profile(u, prompt, 256).print(System.out);
      variant(flags[flags.length - 1]);
      System.out.println("after:");
      profile(g, prompt, 256).print(System.out);
      System.out.printf(Locale.ROOT, "load average now %.2f%n", loadAverage());
    } finally {
      try (var walk = Files.walk(dir)) {
        walk.sorted(java.util.Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
      } catch (IOException | UncheckedIOException ignored) {
        // a temp directory
      }
    }
  }
}
