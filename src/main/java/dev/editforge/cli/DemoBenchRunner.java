package dev.editforge.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.editforge.io.Manifest;
import dev.editforge.io.RunDir;
import dev.editforge.llm.ByteLevel;
import dev.editforge.llm.ModelConfig;
import dev.editforge.llm.RandomDecoderWriter;
import dev.editforge.llm.SafetensorsDType;
import dev.editforge.llm.TinyTokenizerWriter;
import dev.editforge.spark.PipelineStage;
import dev.editforge.text.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import picocli.CommandLine;

/**
 * {@code editforge bench demo}: the demo's wall time, stage by stage, on a model of
 * Qwen2.5-0.5B-Instruct's size (issue 19). Writes a random-weight model with its exact shapes
 * (hidden 896, 24 layers, 14 heads, 2 KV heads, intermediate 4864, vocab 151,936, tied embeddings,
 * q/k/v bias: 494M parameters, fp32) and a byte-level BPE tokenizer of that vocabulary size with
 * Qwen2.5's chat template, runs {@code demo --model DIR} on it in this JVM with the embedded
 * conf/local.conf, and prints each stage's wall time and the total. A random model stops only at
 * the token limit, so this is the upper bound of what a user of the real model waits.
 *
 * <p>Each stage's time is the sum of the {@code seconds} its tables' manifests record (the runner's
 * own timing of each write); {@code other_s} is the rest of the total: Spark's start, reading
 * inputs and configs, the report.
 *
 * <p>Parameters: {@code model=DIR} runs on that HF model instead (e.g. the real one); {@code
 * dir=PATH} keeps the model and runs there (the model is written once, a rerun reuses it); {@code
 * hidden, layers, heads, kv-heads, intermediate, vocab} shrink the random model (the bench's test
 * runs it tiny); {@code demo-args="--set K=V ..."} is passed on to the demo, space-separated.
 */
public final class DemoBenchRunner implements BenchCommand.Bench {
  private static final List<String> SPECIAL =
      List.of("<|endoftext|>", "<|im_start|>", "<|im_end|>");

  /**
   * Qwen2.5-Instruct's chat template without its tool-calling branch, which the demo never uses.
   */
  static final String QWEN25_TEMPLATE =
      "{%- if messages[0]['role'] == 'system' %}{{- '<|im_start|>system\\n' +"
          + " messages[0]['content'] + '<|im_end|>\\n' }}{%- else %}{{- '<|im_start|>system\\nYou"
          + " are Qwen, created by Alibaba Cloud. You are a helpful assistant.<|im_end|>\\n' }}"
          + "{%- endif %}{%- for message in messages %}{%- if (message.role == \"user\") or"
          + " (message.role == \"system\" and not loop.first) or (message.role == \"assistant\")"
          + " %}{{- '<|im_start|>' + message.role + '\\n' + message.content + '<|im_end|>' + '\\n'"
          + " }}{%- endif %}{%- endfor %}{%- if add_generation_prompt %}{{-"
          + " '<|im_start|>assistant\\n' }}{%- endif %}";

  /** GPT-2's pre-tokenizer split (Qwen2 splits digits one by one, as here). */
  private static final Pattern WORDS =
      Pattern.compile(
          "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+");

  @Override
  public String description() {
    return "the demo's wall time per stage on a random model of Qwen2.5-0.5B-Instruct's shapes";
  }

  @Override
  public Map<String, Object> run(Launch launch, Map<String, String> params, PrintStream out)
      throws Exception {
    Path work =
        params.containsKey("dir")
            ? Files.createDirectories(Path.of(params.get("dir")))
            : Files.createTempDirectory("editforge-bench-demo-");
    try {
      return measure(work, params, out);
    } finally {
      if (!params.containsKey("dir")) {
        deleteTree(work);
      }
    }
  }

  private static Map<String, Object> measure(Path work, Map<String, String> params, PrintStream out)
      throws Exception {
    Map<String, Object> f = new LinkedHashMap<>();
    String model = params.get("model");
    if (model == null) {
      ModelConfig config = qwenShapes(params);
      long t0 = System.nanoTime();
      Path dir = writeModel(work.resolve("model"), config, 19);
      double writeS = (System.nanoTime() - t0) / 1e9;
      out.printf(
          Locale.ROOT,
          "random %s model, %,d parameters (fp32), vocab %,d, in %s (%.1f s)%n",
          config.modelType(),
          parameters(config),
          config.vocabSize(),
          dir,
          writeS);
      f.put("parameters", parameters(config));
      model = dir.toString();
    } else {
      f.put("model", Path.of(model).getFileName().toString());
    }
    Path run = work.resolve("run");
    deleteTree(run);
    List<String> args = new ArrayList<>(List.of("--model", model, "--run-dir", run.toString()));
    String extra = params.getOrDefault("demo-args", "").trim();
    if (!extra.isEmpty()) {
      args.addAll(List.of(extra.split("\\s+")));
    }
    String loadBefore = loadAverage();
    DemoCommand demo = new DemoCommand();
    demo.useConsole(out);
    CommandLine cl = new CommandLine(demo);
    cl.setOut(new java.io.PrintWriter(out, true));
    int code;
    double total;
    double totalCpu;
    Map<String, StageTime> stages;
    try (CpuClock cpu = new CpuClock()) {
      long t0 = System.nanoTime();
      long c0 = CpuClock.cpuNanos();
      code = cl.execute(args.toArray(String[]::new));
      total = (System.nanoTime() - t0) / 1e9;
      totalCpu = (CpuClock.cpuNanos() - c0) / 1e9;
      cpu.sample();
      stages = stageTimes(run, cpu);
    }
    if (code != 0) {
      throw new IllegalStateException("the demo exited " + code + "; see its output above");
    }
    double staged = stages.values().stream().mapToDouble(StageTime::seconds).sum();
    out.println();
    out.printf(Locale.ROOT, "%-16s %10s %10s %10s%n", "stage", "wall s", "cpu s", "rows");
    stages.forEach(
        (name, t) ->
            out.printf(
                Locale.ROOT,
                "%-16s %10.1f %10.1f %,10d%n",
                name,
                t.seconds(),
                t.cpuSeconds(),
                t.rows()));
    out.printf(Locale.ROOT, "%-16s %10.1f%n", "other", total - staged);
    out.printf(
        Locale.ROOT, "%-16s %10.1f %10.1f   (%.1f min)%n", "total", total, totalCpu, total / 60);
    String loadAfter = loadAverage();
    out.printf(
        Locale.ROOT,
        "load average (1/5/15 min) %s before, %s after, on %d cores: cpu s is this process's own"
            + " CPU time, which load from other processes does not inflate%n",
        loadBefore,
        loadAfter,
        Runtime.getRuntime().availableProcessors());
    long rssMb = peakRssMb();
    out.printf(
        Locale.ROOT,
        "peak RSS %,d MB, heap max %,d MB; goal: total <= 900 s on 2 cores%n",
        rssMb,
        Runtime.getRuntime().maxMemory() >> 20);
    Map<String, Object> line = new LinkedHashMap<>();
    line.put("total_s", round(total));
    stages.forEach((name, t) -> line.put(name.replace('-', '_') + "_s", round(t.seconds())));
    line.put("other_s", round(total - staged));
    line.put("cpu_s", round(totalCpu));
    stages.forEach((name, t) -> line.put(name.replace('-', '_') + "_cpu_s", round(t.cpuSeconds())));
    line.put("load_before", loadBefore.split(" ")[0]);
    line.put("load_after", loadAfter.split(" ")[0]);
    line.put("peak_rss_mb", rssMb);
    line.putAll(f);
    return line;
  }

  /**
   * One stage's wall time (its tables' manifest seconds together), this process's CPU seconds in
   * the same spans and its tables' output rows.
   */
  record StageTime(double seconds, double cpuSeconds, long rows) {}

  /**
   * This process's CPU time sampled twice a second, so a stage's CPU seconds can be read off its
   * manifest's start and end: on a shared machine the wall time grows with others' load, the CPU
   * time much less. Closes its timer thread.
   */
  static final class CpuClock implements AutoCloseable {
    private final java.util.concurrent.ConcurrentSkipListMap<Long, Long> samples =
        new java.util.concurrent.ConcurrentSkipListMap<>();
    private final java.util.concurrent.ScheduledExecutorService timer =
        java.util.concurrent.Executors.newSingleThreadScheduledExecutor(
            r -> {
              Thread t = new Thread(r, "bench-demo-cpu-clock");
              t.setDaemon(true);
              return t;
            });

    CpuClock() {
      sample();
      timer.scheduleAtFixedRate(this::sample, 500, 500, java.util.concurrent.TimeUnit.MILLISECONDS);
    }

    static long cpuNanos() {
      return ((com.sun.management.OperatingSystemMXBean)
              java.lang.management.ManagementFactory.getOperatingSystemMXBean())
          .getProcessCpuTime();
    }

    void sample() {
      samples.put(System.currentTimeMillis(), cpuNanos());
    }

    /** CPU seconds between two instants, from the samples nearest before each. */
    double between(java.time.Instant from, java.time.Instant to) {
      return (at(to) - at(from)) / 1e9;
    }

    private long at(java.time.Instant t) {
      var e = samples.floorEntry(t.toEpochMilli());
      return (e != null ? e : samples.firstEntry()).getValue();
    }

    @Override
    public void close() {
      timer.shutdownNow();
    }
  }

  /**
   * Each stage's time from the manifests of the tables it wrote in {@code run}, in pipeline order
   * (stages outside {@link Pipeline#stages()}, such as the identity probe, after them).
   */
  static Map<String, StageTime> stageTimes(Path run, CpuClock cpu) throws IOException {
    Map<String, StageTime> byStage = new HashMap<>();
    List<Path> manifests;
    try (Stream<Path> s = Files.walk(run, 3)) {
      manifests =
          s.filter(p -> p.getFileName().toString().equals(RunDir.MANIFEST))
              .filter(p -> !run.relativize(p).toString().startsWith("_"))
              .sorted()
              .toList();
    }
    for (Path p : manifests) {
      Manifest m = Manifest.parse(Files.readString(p));
      Object seconds = m.get("seconds");
      if (!Manifest.COMPLETED.equals(m.status()) || !(seconds instanceof Number n)) {
        continue;
      }
      double cpuSeconds =
          cpu == null || m.get("started_at") == null || m.endedAt() == null
              ? 0
              : cpu.between(
                  java.time.Instant.parse((String) m.get("started_at")),
                  java.time.Instant.parse(m.endedAt()));
      byStage.merge(
          m.stage(),
          new StageTime(n.doubleValue(), cpuSeconds, m.count("output")),
          (a, b) ->
              new StageTime(
                  a.seconds() + b.seconds(), a.cpuSeconds() + b.cpuSeconds(), a.rows() + b.rows()));
    }
    Map<String, StageTime> ordered = new LinkedHashMap<>();
    for (PipelineStage stage : Pipeline.stages()) {
      StageTime t = byStage.remove(stage.name());
      if (t != null) {
        ordered.put(stage.name(), t);
      }
    }
    byStage.keySet().stream().sorted().forEach(k -> ordered.put(k, byStage.get(k)));
    return ordered;
  }

  /** Qwen2.5-0.5B-Instruct's config.json, each size overridable by a bench parameter. */
  static ModelConfig qwenShapes(Map<String, String> params) {
    int vocab = intParam(params, "vocab", 151_936);
    int hidden = intParam(params, "hidden", 896);
    int heads = intParam(params, "heads", 14);
    return new ModelConfig(
        "qwen2",
        vocab,
        hidden,
        intParam(params, "intermediate", 4864),
        intParam(params, "layers", 24),
        heads,
        intParam(params, "kv-heads", 2),
        hidden / heads,
        1e-6,
        1_000_000.0,
        null,
        32_768,
        true,
        true,
        false,
        false,
        0,
        vocab - 3,
        List.of(vocab - 1, vocab - 3));
  }

  /** Parameters of a Qwen2-style decoder of these shapes with tied embeddings and q/k/v bias. */
  static long parameters(ModelConfig c) {
    long h = c.hiddenSize();
    long kv = (long) c.numKeyValueHeads() * c.headDim();
    long q = (long) c.numAttentionHeads() * c.headDim();
    long attention = h * q + q + 2 * (h * kv + kv) + q * h;
    long mlp = 3 * h * c.intermediateSize();
    long layer = attention + mlp + 2 * h;
    return (long) c.vocabSize() * h * (c.tieWordEmbeddings() ? 1 : 2)
        + c.numHiddenLayers() * layer
        + h;
  }

  /**
   * Writes the model (weights streamed tensor by tensor), a byte-level BPE tokenizer of exactly
   * {@code config.vocabSize()} tokens (merges learned on the bundled sample, so the demo's prompts
   * are about as many tokens as with Qwen's own tokenizer, then filler words up to the vocabulary
   * size) and Qwen2.5's tokenizer_config; written only when absent. The special tokens take the
   * last three ids.
   */
  static Path writeModel(Path dir, ModelConfig config, long seed) throws IOException {
    if (Files.isRegularFile(dir.resolve("config.json"))
        && Files.isRegularFile(dir.resolve("tokenizer_config.json"))) {
      return dir;
    }
    Files.createDirectories(dir);
    RandomDecoderWriter.write(dir, config, seed, SafetensorsDType.F32, 1, 0.02);
    TinyTokenizerWriter.write(dir, vocab(config.vocabSize(), sampleTexts()), true, null, false);
    ObjectNode c = Json.COMPACT.createObjectNode();
    c.putNull("bos_token");
    c.put("eos_token", "<|im_end|>");
    c.put("pad_token", "<|endoftext|>");
    c.put("chat_template", QWEN25_TEMPLATE);
    c.put("tokenizer_class", "Qwen2Tokenizer");
    c.put("model_max_length", config.maxPositionEmbeddings());
    Json.MAPPER
        .writerWithDefaultPrettyPrinter()
        .writeValue(dir.resolve("tokenizer_config.json").toFile(), c);
    return dir;
  }

  /**
   * A byte-level BPE vocabulary of exactly {@code size} tokens: the 256 bytes, merges learned on
   * {@code texts} (pairs seen at least twice, most frequent first), then lower-case filler words ("
   * a", " aa", ...), each one merge from a shorter one so the tokenizer stays a valid BPE; the
   * {@link #SPECIAL} tokens last.
   */
  static TinyTokenizerWriter.Vocab vocab(int size, List<String> texts) {
    int regular = size - SPECIAL.size();
    if (regular < 256) {
      throw new IllegalArgumentException("vocab " + size + " is below the 256 bytes + specials");
    }
    Map<String, Integer> ids = new LinkedHashMap<>();
    for (char c : ByteLevel.alphabet()) {
      ids.put(String.valueOf(c), ids.size());
    }
    List<String> merges = new ArrayList<>();
    learnMerges(texts, ids, merges, regular);
    char space = ByteLevel.byByte()[' '];
    List<String> frontier = new ArrayList<>(List.of(String.valueOf(space)));
    while (ids.size() < regular) {
      List<String> next = new ArrayList<>();
      for (String parent : frontier) {
        for (char c = 'a'; c <= 'z' && ids.size() < regular; c++) {
          String token = parent + c;
          next.add(token);
          if (ids.putIfAbsent(token, ids.size()) == null) {
            merges.add(parent + " " + c);
          }
        }
      }
      frontier = next;
    }
    SPECIAL.forEach(s -> ids.put(s, ids.size()));
    return new TinyTokenizerWriter.Vocab(false, ids, SPECIAL, merges);
  }

  /**
   * Plain BPE training on the words of {@code texts}, until {@code limit} tokens or no pair
   * repeats.
   */
  private static void learnMerges(
      List<String> texts, Map<String, Integer> ids, List<String> merges, int limit) {
    char[] byByte = ByteLevel.byByte();
    Map<String, Integer> counts = new HashMap<>();
    for (String text : texts) {
      Matcher m = WORDS.matcher(text);
      while (m.find()) {
        counts.merge(m.group(), 1, Integer::sum);
      }
    }
    List<List<String>> words = new ArrayList<>();
    List<Integer> freq = new ArrayList<>();
    counts.entrySet().stream()
        .sorted(Map.Entry.comparingByKey())
        .forEach(
            e -> {
              List<String> symbols = new ArrayList<>();
              for (byte b : e.getKey().getBytes(StandardCharsets.UTF_8)) {
                symbols.add(String.valueOf(byByte[b & 0xff]));
              }
              words.add(symbols);
              freq.add(e.getValue());
            });
    while (ids.size() < limit) {
      Map<String, Integer> pairs = new HashMap<>();
      for (int w = 0; w < words.size(); w++) {
        List<String> s = words.get(w);
        for (int i = 0; i + 1 < s.size(); i++) {
          pairs.merge(s.get(i) + " " + s.get(i + 1), freq.get(w), Integer::sum);
        }
      }
      String best = null;
      int bestCount = 1;
      for (Map.Entry<String, Integer> e : pairs.entrySet()) {
        int c = e.getValue();
        if (c > bestCount || (c == bestCount && best != null && e.getKey().compareTo(best) < 0)) {
          best = e.getKey();
          bestCount = c;
        }
      }
      if (best == null) {
        return;
      }
      int sp = best.indexOf(' ');
      String left = best.substring(0, sp);
      String right = best.substring(sp + 1);
      String joined = left + right;
      merges.add(best);
      ids.putIfAbsent(joined, ids.size());
      for (List<String> s : words) {
        for (int i = 0; i + 1 < s.size(); i++) {
          if (s.get(i).equals(left) && s.get(i + 1).equals(right)) {
            s.set(i, joined);
            s.remove(i + 1);
          }
        }
      }
    }
  }

  /** Every text of the bundled sample: what the demo's prompts are made of. */
  static List<String> sampleTexts() throws IOException {
    List<String> out = new ArrayList<>();
    for (String[] input : DemoCommand.INPUTS) {
      String text;
      try (InputStream in =
          DemoCommand.class.getClassLoader().getResourceAsStream(DemoCommand.SAMPLE + input[1])) {
        if (in == null) {
          throw new IllegalStateException("bundled sample " + input[1] + " is missing");
        }
        text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      if (input[1].endsWith(".tsv")) {
        for (String line : text.split("\n")) {
          out.addAll(List.of(line.split("\t")));
        }
      } else if (input[1].endsWith(".jsonl")) {
        for (String line : text.split("\n")) {
          if (!line.isBlank()) {
            strings(Json.MAPPER.readTree(line), out);
          }
        }
      } else {
        strings(Json.MAPPER.readTree(text), out);
      }
    }
    return out;
  }

  private static void strings(JsonNode node, List<String> out) {
    if (node.isTextual()) {
      out.add(node.asText());
    }
    node.forEach(child -> strings(child, out));
  }

  private static int intParam(Map<String, String> params, String key, int dflt) {
    return Integer.parseInt(params.getOrDefault(key, String.valueOf(dflt)));
  }

  /** This process's peak resident set (VmHWM), or -1 where /proc does not say. */
  private static long peakRssMb() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/status"))) {
        if (line.startsWith("VmHWM:")) {
          return Long.parseLong(line.replaceAll("\\D", "")) >> 10;
        }
      }
    } catch (IOException | RuntimeException e) {
      return -1;
    }
    return -1;
  }

  /** The 1, 5 and 15 minute load averages, or "?" where /proc does not say. */
  private static String loadAverage() {
    try {
      String[] f = Files.readString(Path.of("/proc/loadavg")).trim().split("\\s+");
      return f[0] + " " + f[1] + " " + f[2];
    } catch (IOException | RuntimeException e) {
      return "?";
    }
  }

  private static double round(double v) {
    return Math.round(v * 10) / 10.0;
  }

  private static void deleteTree(Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + dir, e);
    }
  }
}
