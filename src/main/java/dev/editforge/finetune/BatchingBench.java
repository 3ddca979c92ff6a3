package dev.editforge.finetune;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.JsonNode;
import dev.editforge.io.SftRow;
import dev.editforge.io.SftSource;
import dev.editforge.llm.ChatMessage;
import dev.editforge.llm.DecoderLoader;
import dev.editforge.llm.LoadedDecoder;
import dev.editforge.llm.ModelConfig;
import dev.editforge.llm.RandomGpt2Writer;
import dev.editforge.lora.Batching;
import dev.editforge.lora.TokenizedSample;
import dev.editforge.lora.TrainSettings;
import dev.editforge.text.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * {@code editforge bench batching}: seed 003's comparison of batching modes for instruction tuning
 * of GPT-2. The same instruction rows and the same model (a small random GPT-2, {@link
 * RandomGpt2Writer}, or {@code model=DIR}) are trained with full-parameter AdamW ({@link
 * FullTrainer}) for the same number of optimizer steps once per mode (padding, packed, concat,
 * bfd), each from the same initial weights. Per mode it prints training tokens/s (non-padding
 * tokens over training seconds), the padding fraction of the batches computed, and the validation
 * loss of held-out rows, always batched in padding mode (as the seed evaluates), so the losses
 * compare. Rows are rendered as raw prompt + completion + EOS, loss on the completion.
 *
 * <p>Parameters: {@code data} (an instructions JSONL: Alpaca {@code instruction/input/output} or
 * {@code messages} rows; default: the bundled sample), {@code model}, {@code steps} (20), {@code
 * batch-size} (4), {@code max-length} (256), {@code hidden} (64), {@code layers} (2), {@code lr}
 * (1e-3), {@code eval} (share of rows held out, 0.25), {@code threads} (libtorch threads, 0 =
 * default).
 */
public final class BatchingBench {
  static final String SAMPLE = "/editforge/sample/instructions.jsonl";

  private BatchingBench() {}

  /** One mode's measurements. */
  public record ModeResult(
      Batching.Mode mode,
      int rows,
      long realTokens,
      long paddingTokens,
      double seconds,
      double firstLoss,
      double lastLoss,
      double validationLoss) {
    public double tokensPerSecond() {
      return realTokens / Math.max(1e-9, seconds);
    }

    public double paddingFraction() {
      long all = realTokens + paddingTokens;
      return all == 0 ? 0 : paddingTokens / (double) all;
    }
  }

  /** Runs the bench, prints the table, returns the fields of its BENCH line. */
  public static Map<String, Object> run(Map<String, String> params, PrintStream out)
      throws IOException {
    int steps = integer(params, "steps", 20);
    int batchSize = integer(params, "batch-size", 4);
    int maxLength = integer(params, "max-length", 256);
    double lr = Double.parseDouble(params.getOrDefault("lr", "1e-3"));
    double evalShare = Double.parseDouble(params.getOrDefault("eval", "0.25"));
    Engine.getEngine("PyTorch");
    JniUtils.setGradMode(false);
    int threads = integer(params, "threads", 0);
    if (threads > 0) {
      JniUtils.setNumThreads(threads);
    }
    Path tmp = null;
    Path modelDir;
    if (params.containsKey("model")) {
      modelDir = Path.of(params.get("model"));
    } else {
      tmp = Files.createTempDirectory("editforge-bench-batching-");
      ModelConfig c =
          RandomGpt2Writer.config(
              integer(params, "hidden", 64),
              integer(params, "layers", 2),
              Math.max(1, integer(params, "hidden", 64) / 16),
              Math.max(maxLength, 64));
      modelDir = RandomGpt2Writer.write(tmp.resolve("gpt2"), c, 1234, true);
    }
    List<SftRow> rows = params.containsKey("data") ? read(Path.of(params.get("data"))) : sample();
    try {
      List<ModeResult> results = new ArrayList<>();
      String modelName;
      long parameters;
      int trainCount;
      int evalCount;
      try (LoadedDecoder probe = DecoderLoader.load(modelDir, Device.cpu(), DataType.FLOAT32)) {
        modelName = probe.model().config().modelType();
        parameters = probe.model().config().parameterCount();
        boolean[] isEval = FinetuneRunner.evalMask(rows.size(), evalShare, 42);
        SftTokenizer tok = new SftTokenizer(probe.tokenizer(), null, true);
        List<TokenizedSample> train = new ArrayList<>();
        List<TokenizedSample> eval = new ArrayList<>();
        for (int i = 0; i < rows.size(); i++) {
          (isEval[i] ? eval : train).add(tok.tokenize(rows.get(i)));
        }
        trainCount = train.size();
        evalCount = eval.size();
        int padId = FinetuneRunner.padId(probe);
        List<Batching.Batch> evalBatches =
            Batching.batches(
                Batching.plan(eval, Batching.Mode.PADDING, maxLength).rows(), batchSize, padId);
        TrainSettings ts =
            TrainSettings.defaults()
                .withMaxSteps(steps)
                .withBatching(batchSize, 1)
                .withLearningRate(lr)
                .withPadding(maxLength, TrainSettings.PadTo.LONGEST, false);
        out.printf(
            Locale.ROOT,
            "bench batching: %s (%,d parameters), %d train / %d validation rows, %d steps of"
                + " batch %d, max length %d, full-parameter AdamW lr %s%n",
            modelDir,
            parameters,
            trainCount,
            evalCount,
            steps,
            batchSize,
            maxLength,
            lr);
        // untimed warm-up (JIT, libtorch's first-call setup), or the first mode pays for it
        try (LoadedDecoder dec = DecoderLoader.load(modelDir, Device.cpu(), DataType.FLOAT32);
            FullTrainer t =
                new FullTrainer(
                    dec.model(),
                    Batching.plan(train, Batching.Mode.BFD, maxLength).rows(),
                    ts.withMaxSteps(Math.min(3, steps)),
                    42,
                    padId)) {
          while (t.step()) {
            // warm-up steps
          }
        }
        for (Batching.Mode mode : Batching.Mode.values()) {
          List<Batching.Row> planned = Batching.plan(train, mode, maxLength).rows();
          // every mode starts from the same weights: a fresh load of the same directory
          try (LoadedDecoder dec = DecoderLoader.load(modelDir, Device.cpu(), DataType.FLOAT32);
              FullTrainer t = new FullTrainer(dec.model(), planned, ts, 42, padId)) {
            long start = System.nanoTime();
            double first = Double.NaN;
            while (t.step()) {
              if (t.stepsDone() == 1) {
                first = t.lastLoss();
              }
            }
            double seconds = (System.nanoTime() - start) / 1e9;
            double val = FinetuneRunner.evalLoss(dec.model(), null, evalBatches);
            results.add(
                new ModeResult(
                    mode,
                    planned.size(),
                    t.realTokens(),
                    t.paddingTokens(),
                    seconds,
                    first,
                    t.lastLoss(),
                    val));
          }
        }
      }
      print(results, out);
      Map<String, Object> fields = new LinkedHashMap<>();
      fields.put("model", modelName);
      fields.put("parameters", parameters);
      fields.put("steps", steps);
      fields.put("batch_size", batchSize);
      fields.put("train_rows", trainCount);
      fields.put("validation_rows", evalCount);
      double base = results.get(0).tokensPerSecond();
      for (ModeResult r : results) {
        String m = r.mode().wireName();
        fields.put(m + "_tokens_per_s", r.tokensPerSecond());
        fields.put(m + "_padding_fraction", r.paddingFraction());
        fields.put(m + "_val_loss", r.validationLoss());
        fields.put(m + "_speedup", r.tokensPerSecond() / base);
      }
      return fields;
    } finally {
      if (tmp != null) {
        FinetuneRunner.deleteTree(tmp);
      }
    }
  }

  static void print(List<ModeResult> results, PrintStream out) {
    out.printf(
        Locale.ROOT,
        "%-8s %6s %10s %10s %8s %9s %11s %9s%n",
        "mode",
        "rows",
        "tokens",
        "tokens/s",
        "vs pad",
        "padding",
        "train loss",
        "val loss");
    double base = results.get(0).tokensPerSecond();
    for (ModeResult r : results) {
      out.printf(
          Locale.ROOT,
          "%-8s %6d %10d %10.1f %7.2fx %8.1f%% %5.2f>%5.2f %9.4f%n",
          r.mode().wireName(),
          r.rows(),
          r.realTokens(),
          r.tokensPerSecond(),
          r.tokensPerSecond() / base,
          100 * r.paddingFraction(),
          r.firstLoss(),
          r.lastLoss(),
          r.validationLoss());
    }
  }

  private static int integer(Map<String, String> params, String key, int fallback) {
    return params.containsKey(key) ? Integer.parseInt(params.get(key)) : fallback;
  }

  /** The bundled 16 instruction rows. */
  static List<SftRow> sample() {
    try (InputStream in = BatchingBench.class.getResourceAsStream(SAMPLE)) {
      if (in == null) {
        throw new IllegalStateException("bundled " + SAMPLE + " is missing from the classpath");
      }
      return parse(new String(in.readAllBytes(), StandardCharsets.UTF_8), SAMPLE);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  static List<SftRow> read(Path file) throws IOException {
    return parse(Files.readString(file), file.toString());
  }

  /**
   * Alpaca rows become prompt {@code instruction} (+ blank line + {@code input}) and completion
   * {@code output}; chat rows keep their messages up to the last assistant turn, which is the
   * completion.
   */
  static List<SftRow> parse(String jsonl, String source) throws IOException {
    List<SftRow> out = new ArrayList<>();
    int line = 0;
    for (String l : jsonl.split("\n")) {
      line++;
      if (l.isBlank()) {
        continue;
      }
      JsonNode n = Json.COMPACT.readTree(l);
      String id = "row" + line;
      if (n.has("instruction")) {
        String input = n.path("input").asText("");
        String prompt = n.get("instruction").asText() + (input.isBlank() ? "" : "\n\n" + input);
        out.add(
            SftRow.exchange(prompt, n.path("output").asText(""), SftSource.INSTRUCTION, id, 1.0));
      } else if (n.has("messages")) {
        List<ChatMessage> messages = new ArrayList<>();
        for (JsonNode m : n.get("messages")) {
          messages.add(new ChatMessage(m.get("role").asText(), m.get("content").asText()));
        }
        int last = messages.size() - 1;
        while (last >= 0 && !messages.get(last).role().equals("assistant")) {
          last--;
        }
        if (last < 1) {
          continue;
        }
        StringBuilder prompt = new StringBuilder();
        for (int i = 0; i < last; i++) {
          prompt.append(messages.get(i).content()).append('\n');
        }
        out.add(
            SftRow.exchange(
                prompt.toString().strip(),
                messages.get(last).content(),
                SftSource.INSTRUCTION,
                id,
                1.0));
      } else {
        throw new IllegalArgumentException(
            source + " line " + line + ": neither an Alpaca row nor a messages row");
      }
    }
    if (out.size() < 2) {
      throw new IllegalArgumentException(source + " has fewer than 2 usable rows");
    }
    return out;
  }
}
