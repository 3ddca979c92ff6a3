package dev.editforge.ttt;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.editforge.config.TttSettings;
import dev.editforge.judge.LocalJudges;
import dev.editforge.llm.DecoderLoader;
import dev.editforge.llm.LoadedDecoder;
import dev.editforge.llm.ModelConfig;
import dev.editforge.llm.RandomDecoderWriter;
import dev.editforge.llm.TinyTokenizerWriter;
import dev.editforge.lora.TrainSettings;
import dev.editforge.text.Json;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
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
 * whether both modes produced the same answers. The last line is {@code BENCH ttt
 * multi_vs_single=<x> edits_per_min_multi=<x> edits_per_min_single=<x>}.
 */
public final class TttBench {
  static final int EDITS = 8;
  static final int LINES = 7;
  static final int ROUNDS = 2;

  /**
   * One intra-op thread: on a shared 2-core machine libtorch's OpenMP barriers make the many tiny
   * ops of one-adapter-at-a-time training up to 20x slower with 2 threads (measured: 100 s instead
   * of 8 s), which would inflate the ratio; one thread compares the two modes fairly.
   */
  static final int THREADS = 1;

  private TttBench() {}

  public static int run(PrintStream out) {
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
        List<TttEdit> edits = edits();
        TttSettings base =
            TttSettings.seal()
                .withTraining(10, 1e-3, 2048, TrainSettings.PadTo.LONGEST, true)
                .withEvaluation(64, 1, false, false);
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
        for (int round = 0; round < ROUNDS; round++) {
          Run m = measure(decoder, base.withBatching(EDITS, 256, 42), article, edits, "multi");
          Run s = measure(decoder, base.withBatching(1, 256, 42), article, edits, "single");
          multi = multi == null || m.seconds < multi.seconds ? m : multi;
          single = single == null || s.seconds < single.seconds ? s : single;
        }
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
                + " 10 epochs lr 1e-3 batch 1; greedy answers <= 64 tokens; judge normalized-contains%n",
            EDITS,
            LINES + 1,
            article.questions().size());
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
        out.printf(
            Locale.ROOT,
            "BENCH ttt multi_vs_single=%.2f edits_per_min_multi=%.1f edits_per_min_single=%.1f%n",
            ratio,
            multi.editsPerMinute(),
            single.editsPerMinute());
        return 0;
      }
    } finally {
      deleteQuietly(dir);
    }
  }

  private record Run(
      String name,
      int adaptersPerBatch,
      double seconds,
      LocalEditScorer.Timings timings,
      List<List<String>> answers) {
    double editsPerMinute() {
      return EDITS / seconds * 60.0;
    }
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
      return new Run(name, s.adaptersPerBatch(), seconds, scorer.timings(), answers);
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

  static List<TttEdit> edits() {
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
    for (int e = 0; e < EDITS; e++) {
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
