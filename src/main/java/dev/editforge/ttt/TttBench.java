package dev.editforge.ttt;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.editforge.config.TttSettings;
import dev.editforge.judge.LocalJudges;
import dev.editforge.llm.DecoderLoader;
import dev.editforge.llm.DecoderModel;
import dev.editforge.llm.LoadedDecoder;
import dev.editforge.llm.ModelConfig;
import dev.editforge.llm.RandomDecoderWriter;
import dev.editforge.llm.TinyTokenizerWriter;
import dev.editforge.lora.LoraAdapter;
import dev.editforge.lora.LoraStack;
import dev.editforge.lora.LoraTrainer;
import dev.editforge.lora.TrainSample;
import dev.editforge.lora.TrainSettings;
import dev.editforge.text.Json;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.Stream;

/**
 * {@code editforge bench ttt}: self-edits scored per minute by {@link LocalEditScorer} with all
 * adapters of an article trained and evaluated together versus one adapter at a time, on a fixed
 * random decoder (Llama layout, 2 layers, hidden 256, byte-level tokenizer) on CPU. Workload: one
 * article with 4 questions and 8 self-edits of 8 train sequences each (7 lines + the passage),
 * SEAL's inner loop (LoRA r 32 / alpha 64 on q_proj, v_proj; 10 epochs, lr 1e-3, batch 1, AdamW,
 * linear decay; greedy answers of up to 64 tokens; one repeat) except that train batches are padded
 * to their longest sequence instead of 2048 tokens, judged by {@code normalized-contains}. Both
 * modes run in the same JVM after a warm-up, alternating for two rounds (best of each kept), with
 * one engine thread; the table shows the time split between training, answering and judging, and
 * whether both modes produced the same answers.
 *
 * <p>Also measured in the same JVM: {@code train_mfu}, the training FLOPs the multi-adapter run did
 * ({@link dev.editforge.lora.TrainFlops}, real tokens) per second of its training, over the FLOP/s
 * of the faster of a 1024^3 and a 512x256x512 (the training's projection shape) fp32 matmul, best
 * of ten, measured on the same thread between the runs; {@code concurrent_2_vs_1}, two
 * multi-adapter trainers (half the edits each) on two Java threads at once against the same two one
 * after the other, alternating rounds, best of each (with their threads' CPU seconds, which tell
 * contention inside the JVM from cores the machine did not give); {@code answer_tok_s}, tokens per
 * second the multi-adapter run's batched answer phase generated. The last line is {@code BENCH ttt
 * multi_vs_single=<x> edits_per_min_multi=<x> edits_per_min_single=<x> train_mfu=<x>
 * concurrent_2_vs_1=<x> answer_tok_s=<x>}.
 *
 * <p>Parameters ({@code --param k=v}) shrink it for a test: {@code edits} (8), {@code epochs} (10),
 * {@code tokens} (answer tokens, 64), {@code rounds} (2), {@code matmul} (1024).
 */
public final class TttBench {
  static final int EDITS = 8;
  static final int LINES = 7;
  static final int ROUNDS = 2;

  /** The workload's size; the defaults are the benchmark's, smaller ones make a fast test. */
  record Options(int edits, int epochs, int answerTokens, int rounds, int matmul) {
    static Options of(Map<String, String> params) {
      Map<String, String> p = new java.util.HashMap<>(params);
      Options o =
          new Options(
              take(p, "edits", EDITS, 2),
              take(p, "epochs", 10, 1),
              take(p, "tokens", 64, 1),
              take(p, "rounds", ROUNDS, 1),
              take(p, "matmul", 1024, 16));
      if (!p.isEmpty()) {
        throw new IllegalArgumentException(
            "unknown bench ttt parameter(s) "
                + p.keySet()
                + "; known: edits, epochs, tokens, rounds, matmul");
      }
      return o;
    }

    private static int take(Map<String, String> p, String key, int dflt, int min) {
      String v = p.remove(key);
      if (v == null) {
        return dflt;
      }
      int n;
      try {
        n = Integer.parseInt(v.trim());
      } catch (NumberFormatException e) {
        n = min - 1;
      }
      if (n < min) {
        throw new IllegalArgumentException(
            "bench ttt parameter " + key + "=" + v + " must be an integer >= " + min);
      }
      return n;
    }
  }

  /**
   * One intra-op thread: on a shared 2-core machine libtorch's OpenMP barriers make the many tiny
   * ops of one-adapter-at-a-time training up to 20x slower with 2 threads (measured: 100 s instead
   * of 8 s), which would inflate the ratio; one thread compares the two modes fairly.
   */
  static final int THREADS = 1;

  private TttBench() {}

  public static int run(PrintStream out) {
    return run(out, Map.of());
  }

  /** Throws IllegalArgumentException naming a parameter that is unknown or out of range. */
  public static void checkParams(Map<String, String> params) {
    Options.of(params);
  }

  /** With {@link Options} from {@code params} (bad ones throw IllegalArgumentException). */
  public static int run(PrintStream out, Map<String, String> params) {
    Options o = Options.of(params);
    Path dir;
    try {
      dir = Files.createTempDirectory("editforge-bench-ttt");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    try {
      Engine.getEngine("PyTorch");
      JniUtils.setNumThreads(THREADS);
      writeModel(dir);
      try (LoadedDecoder decoder = DecoderLoader.load(dir, Device.cpu(), DataType.FLOAT32)) {
        TttArticle article = article();
        List<TttEdit> edits = edits(o.edits());
        TttSettings base =
            TttSettings.seal()
                .withTraining(o.epochs(), 1e-3, 2048, TrainSettings.PadTo.LONGEST, true)
                .withEvaluation(o.answerTokens(), 1, false, false);
        // Warm-up: engine start, allocator, JIT of the Java side.
        try (LocalEditScorer warm =
            new LocalEditScorer(
                decoder, base.withBatching(2, 256, 1), LocalJudges.normalizedContains())) {
          warm.score(
              new TttArticle("warm", article.title(), article.context(), article.questions()),
              edits.subList(0, 2));
        }
        // Two alternating rounds, best of each: the machine is shared, and load that comes and goes
        // would otherwise favour whichever mode ran in the quiet moment.
        Run multi = null;
        Run single = null;
        double peak = 0;
        // The training's own shape: ~500 tokens per batched forward through a 256 -> 512
        // projection. How far it falls short of the large matmul bounds what train_mfu can reach.
        double projectionPeak = 0;
        for (int round = 0; round < o.rounds(); round++) {
          peak = Math.max(peak, matmulFlopsPerSecond(o.matmul(), o.matmul(), o.matmul()));
          projectionPeak = Math.max(projectionPeak, matmulFlopsPerSecond(512, 256, 512));
          Run m = measure(decoder, base.withBatching(o.edits(), 256, 42), article, edits, "multi");
          peak = Math.max(peak, matmulFlopsPerSecond(o.matmul(), o.matmul(), o.matmul()));
          projectionPeak = Math.max(projectionPeak, matmulFlopsPerSecond(512, 256, 512));
          Run s = measure(decoder, base.withBatching(1, 256, 42), article, edits, "single");
          multi = multi == null || m.seconds < multi.seconds ? m : multi;
          single = single == null || s.seconds < single.seconds ? s : single;
        }
        Concurrent conc = concurrent(decoder, base, article, edits, o.rounds());
        boolean same = multi.answers.equals(single.answers);
        ModelConfig c = decoder.model().config();
        out.printf(
            Locale.ROOT,
            "bench ttt: random %s, %d layers, hidden %d, %,d parameters, CPU, %d engine thread(s)%n",
            c.modelType(),
            c.numHiddenLayers(),
            c.hiddenSize(),
            c.parameterCount(),
            THREADS);
        out.printf(
            Locale.ROOT,
            "workload: %d self-edits x %d train sequences, %d questions; LoRA r32 a64 q_proj,v_proj;"
                + " %d epochs lr 1e-3 batch 1; greedy answers <= %d tokens; judge"
                + " normalized-contains%n",
            o.edits(),
            LINES + 1,
            article.questions().size(),
            o.epochs(),
            o.answerTokens());
        out.println();
        out.printf(
            Locale.ROOT,
            "%-8s %10s %9s %10s %9s %9s %9s %10s%n",
            "mode",
            "adapters",
            "seconds",
            "edits/min",
            "train s",
            "answer s",
            "judge s",
            "baseline s");
        for (Run r : List.of(multi, single)) {
          LocalEditScorer.Timings t = r.timings;
          out.printf(
              Locale.ROOT,
              "%-8s %10d %9.2f %10.1f %9.2f %9.2f %9.3f %10.2f%n",
              r.name,
              r.adaptersPerBatch,
              r.seconds,
              r.editsPerMinute(),
              t.training,
              t.answering,
              t.judging,
              t.baseline);
        }
        double ratio = multi.editsPerMinute() / single.editsPerMinute();
        out.println();
        out.printf(
            Locale.ROOT,
            "multi-adapter batching: %.2fx the edits per minute (goal >= 3x); answers identical: %s%n",
            ratio,
            same ? "yes" : "no (float rounding of batched matmuls changed a greedy token)");
        // The yardstick is the fastest matmul seen, whichever shape: under load a large matmul's
        // best of a few can still be a slow one, and a low yardstick would flatter train_mfu.
        double yardstick = Math.max(peak, projectionPeak);
        double mfu = multi.timings.trainFlops / multi.timings.training / yardstick;
        double mfuSingle = single.timings.trainFlops / single.timings.training / yardstick;
        double answerTokS = multi.timings.answerTokens / multi.timings.answering;
        double mfuCpu = multi.timings.trainFlops / multi.timings.trainingCpu / yardstick;
        out.printf(
            Locale.ROOT,
            "training: %.3g FLOPs (real tokens) in %.2f s = %.2f GFLOP/s multi, %.2f GFLOP/s single;"
                + " %dx%dx%d fp32 matmul %.2f GFLOP/s, 512x256x512 %.2f GFLOP/s; train_mfu (over"
                + " the faster) %.2f multi, %.2f single (goal >= 0.5)%n",
            multi.timings.trainFlops,
            multi.timings.training,
            multi.timings.trainFlops / multi.timings.training / 1e9,
            single.timings.trainFlops / single.timings.training / 1e9,
            o.matmul(),
            o.matmul(),
            o.matmul(),
            peak / 1e9,
            projectionPeak / 1e9,
            mfu,
            mfuSingle);
        out.printf(
            Locale.ROOT,
            "training thread CPU time %.2f s of %.2f s wall (the rest went to other processes):"
                + " train_mfu by CPU time %.2f multi%n",
            multi.timings.trainingCpu,
            multi.timings.training,
            mfuCpu);
        out.printf(
            Locale.ROOT,
            "concurrent training: two trainers of %d adapters on two threads %.2f s vs one after the"
                + " other %.2f s: %.2fx the work per second (goal >= 1.7); their threads' CPU time"
                + " %.2f s vs %.2f s (%.2fx: above 1 is contention inside the JVM, the rest is"
                + " cores the machine did not give)%n",
            o.edits() / 2,
            conc.parallel,
            conc.sequential,
            conc.ratio(),
            conc.parallelCpu,
            conc.sequentialCpu,
            conc.parallelCpu / conc.sequentialCpu);
        out.printf(
            Locale.ROOT,
            "answer phase (multi): %d tokens in %.2f s = %.1f tok/s%n",
            multi.timings.answerTokens,
            multi.timings.answering,
            answerTokS);
        out.printf(
            Locale.ROOT,
            "BENCH ttt multi_vs_single=%.2f edits_per_min_multi=%.1f edits_per_min_single=%.1f"
                + " train_mfu=%.3f concurrent_2_vs_1=%.2f answer_tok_s=%.1f%n",
            ratio,
            multi.editsPerMinute(),
            single.editsPerMinute(),
            mfu,
            conc.ratio(),
            answerTokS);
        return 0;
      }
    } finally {
      deleteQuietly(dir);
    }
  }

  private record Run(
      String name,
      int adaptersPerBatch,
      int edits,
      double seconds,
      LocalEditScorer.Timings timings,
      List<List<String>> answers) {
    double editsPerMinute() {
      return edits / seconds * 60.0;
    }
  }

  /**
   * Best wall seconds of the two trainers run at once and one after the other, and the CPU seconds
   * of their threads in those rounds (libtorch runs each trainer's ops on its own thread).
   */
  private record Concurrent(
      double parallel, double sequential, double parallelCpu, double sequentialCpu) {
    double ratio() {
      return sequential / parallel;
    }
  }

  /**
   * FLOP/s of an {@code m x k} by {@code k x n} fp32 matmul on this thread's engine settings, best
   * of ten after a warm-up: the yardstick of {@code train_mfu}.
   */
  static double matmulFlopsPerSecond(int m, int k, int n) {
    try (NDManager mm = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
      NDArray a = mm.randomUniform(-1f, 1f, new Shape(m, k));
      NDArray b = mm.randomUniform(-1f, 1f, new Shape(k, n));
      a.matMul(b).close();
      double best = Double.MAX_VALUE;
      for (int i = 0; i < 10; i++) {
        long t0 = System.nanoTime();
        NDArray c = a.matMul(b);
        c.getFloat(0, 0); // forces the result
        best = Math.min(best, (System.nanoTime() - t0) / 1e9);
        c.close();
      }
      return 2.0 * m * k * n / best;
    }
  }

  /**
   * Two trainers, each the multi-adapter training of half of {@code edits}, timed on two threads at
   * once and one after the other, alternating for {@code rounds} rounds (best of each).
   */
  private static Concurrent concurrent(
      LoadedDecoder decoder, TttSettings s, TttArticle article, List<TttEdit> edits, int rounds) {
    int half = edits.size() / 2;
    List<List<TrainSample>> a = trainData(decoder, s, article, edits.subList(0, half));
    List<List<TrainSample>> b = trainData(decoder, s, article, edits.subList(half, 2 * half));
    ExecutorService pool = Executors.newFixedThreadPool(2);
    try {
      // Warm-up of both pool threads (libtorch's per-thread state, first-call costs), which would
      // otherwise count against the first round's concurrent run.
      TttSettings once =
          s.withTraining(1, s.learningRate(), s.maxLength(), s.padTo(), s.padLabels());
      Future<Double> w1 = pool.submit(() -> train(decoder, once, a.subList(0, 1), 1));
      Future<Double> w2 = pool.submit(() -> train(decoder, once, b.subList(0, 1), 2));
      w1.get();
      w2.get();
      double parallel = Double.MAX_VALUE;
      double sequential = Double.MAX_VALUE;
      double parallelCpu = 0;
      double sequentialCpu = 0;
      for (int round = 0; round < rounds; round++) {
        long t0 = System.nanoTime();
        double cpu = train(decoder, s, a, 1) + train(decoder, s, b, 2);
        long t1 = System.nanoTime();
        Future<Double> fa = pool.submit(() -> train(decoder, s, a, 1));
        Future<Double> fb = pool.submit(() -> train(decoder, s, b, 2));
        double cpuTogether = fa.get() + fb.get();
        long t2 = System.nanoTime();
        if ((t1 - t0) / 1e9 < sequential) {
          sequential = (t1 - t0) / 1e9;
          sequentialCpu = cpu;
        }
        if ((t2 - t1) / 1e9 < parallel) {
          parallel = (t2 - t1) / 1e9;
          parallelCpu = cpuTogether;
        }
      }
      return new Concurrent(parallel, sequential, parallelCpu, sequentialCpu);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    } catch (ExecutionException e) {
      throw e.getCause() instanceof RuntimeException r ? r : new IllegalStateException(e);
    } finally {
      pool.shutdownNow();
    }
  }

  /** Each edit's train sequences, tokenized as the scorer does (no end-mask substring here). */
  private static List<List<TrainSample>> trainData(
      LoadedDecoder decoder, TttSettings s, TttArticle article, List<TttEdit> edits) {
    List<List<TrainSample>> out = new ArrayList<>();
    for (TttEdit e : edits) {
      List<TrainSample> samples = new ArrayList<>();
      for (String text : e.trainSequences(article.title(), article.context(), s.splitNewlines())) {
        int[] ids = decoder.tokenizer().encode(text);
        if (ids.length > s.maxLength()) {
          ids = Arrays.copyOf(ids, s.maxLength());
        }
        samples.add(new TrainSample(ids, ids.clone(), null, null));
      }
      out.add(samples);
    }
    return out;
  }

  /** Trains one multi-adapter stack on {@code data}; returns the calling thread's CPU seconds. */
  private static double train(
      LoadedDecoder decoder, TttSettings s, List<List<TrainSample>> data, long seed) {
    ThreadMXBean threads = ManagementFactory.getThreadMXBean();
    long cpu0 = threads.getCurrentThreadCpuTime();
    DecoderModel model = decoder.model();
    List<LoraAdapter> init = new ArrayList<>();
    long[] seeds = new long[data.size()];
    for (int k = 0; k < data.size(); k++) {
      seeds[k] = seed * 1000 + k;
      init.add(LoraAdapter.initialize(model.config(), s.lora(), seeds[k]));
    }
    int pad = decoder.tokenizer().eosTokenId();
    try (LoraStack stack = LoraStack.of(init, model.device());
        LoraTrainer trainer =
            new LoraTrainer(model, stack, data, s.train(), seeds, Math.max(0, pad))) {
      trainer.train();
    }
    return (threads.getCurrentThreadCpuTime() - cpu0) / 1e9;
  }

  private static Run measure(
      LoadedDecoder decoder, TttSettings s, TttArticle article, List<TttEdit> edits, String name) {
    try (LocalEditScorer scorer =
        new LocalEditScorer(decoder, s, LocalJudges.normalizedContains())) {
      long t0 = System.nanoTime();
      List<TttResult> results = scorer.score(article, edits);
      double seconds = (System.nanoTime() - t0) / 1e9;
      List<List<String>> answers = new ArrayList<>();
      for (TttResult r : results) {
        answers.add(r.questions().stream().map(QuestionResult::adapterAnswer).toList());
      }
      return new Run(name, s.adaptersPerBatch(), edits.size(), seconds, scorer.timings(), answers);
    }
  }

  static TttArticle article() {
    return new TttArticle(
        "bench",
        "Veltrania",
        "Veltrania is a river republic whose capital is Osmir. Its chief export is amberglass, and its"
            + " council meets every ninth moon in the Hall of Tides.",
        List.of(
            new TttQuestion("What is the capital of Veltrania?", List.of("Osmir")),
            new TttQuestion("What does Veltrania export?", List.of("amberglass")),
            new TttQuestion("How often does the council meet?", List.of("every ninth moon")),
            new TttQuestion("Where does the council meet?", List.of("Hall of Tides"))));
  }

  static List<TttEdit> edits(int count) {
    String[] facts = {
      "Osmir is the capital of Veltrania",
      "Veltrania exports amberglass",
      "the council meets every ninth moon",
      "the Hall of Tides hosts the council",
      "Veltrania is a river republic",
      "amberglass comes from Veltrania",
      "the capital Osmir lies on a river",
      "councillors gather in Osmir"
    };
    List<TttEdit> out = new ArrayList<>();
    for (int e = 0; e < count; e++) {
      StringBuilder sb = new StringBuilder();
      for (int l = 0; l < LINES; l++) {
        sb.append(l + 1)
            .append(". ")
            .append(facts[(e + l) % facts.length])
            .append(" (note ")
            .append(e)
            .append(").\n");
      }
      out.add(new TttEdit("edit-" + e, "bench", sb.toString()));
    }
    return out;
  }

  /** A Llama-layout decoder with random weights and a byte-level BPE tokenizer without merges. */
  static void writeModel(Path dir) {
    int vocab = 256 + 1;
    int eos = 256;
    ModelConfig config =
        new ModelConfig(
            "llama",
            vocab + 7,
            256,
            512,
            2,
            4,
            2,
            64,
            1e-5,
            10000.0,
            null,
            512,
            true,
            false,
            false,
            false,
            0,
            -1,
            List.of(eos));
    RandomDecoderWriter.write(dir, config, 7);
    TinyTokenizerWriter.write(
        dir, TinyTokenizerWriter.bytesOnly(List.of("<|endoftext|>")), false, null, false);
    ObjectMapper json = Json.COMPACT;
    ObjectNode tc = json.createObjectNode();
    tc.putNull("bos_token");
    tc.put("eos_token", "<|endoftext|>");
    tc.put("pad_token", "<|endoftext|>");
    tc.put("model_max_length", 512);
    try {
      json.writeValue(dir.resolve("tokenizer_config.json").toFile(), tc);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void deleteQuietly(Path dir) {
    try (Stream<Path> walk = Files.walk(dir)) {
      walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      // a temp directory left behind is harmless
    }
  }
}
