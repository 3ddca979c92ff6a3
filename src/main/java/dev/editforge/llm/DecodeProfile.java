package dev.editforge.llm;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.NDScope;
import java.io.PrintStream;
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
}
