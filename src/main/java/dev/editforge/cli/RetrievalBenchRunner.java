package dev.editforge.cli;

import dev.editforge.config.EmbedSettings;
import dev.editforge.config.RetrieveSettings;
import dev.editforge.embed.EmbedJob;
import dev.editforge.encoders.Encoder;
import dev.editforge.encoders.EncoderPreset;
import dev.editforge.io.RunDir;
import dev.editforge.io.Tables;
import dev.editforge.lucene.Fusion;
import dev.editforge.spark.Encoders;
import dev.editforge.spark.StageContext;
import dev.editforge.spark.StageOutput;
import dev.editforge.spark.StageRunner;
import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/**
 * {@code editforge bench retrieval}: (1) passages/s through the Spark embed stage against {@link
 * RetrievalBench#bareEmbedPassagesPerSecond} with the same model and cores (goal ≥ 0.85); (2) HNSW
 * recall@10 fp32 / int8 with bytes and q/s; (3) SQuAD-dev top-1/5/20 for bm25, dense and hybrid
 * when {@code ../shared} exists. Params: {@code passages} (default 1000).
 */
public final class RetrievalBenchRunner implements BenchCommand.Bench {
  static final Path SQUAD = Paths.get("..", "shared", "data", "seal", "squad_val.json");

  @Override
  public String description() {
    return "Spark embed vs bare, HNSW recall fp32/int8, SQuAD-dev top-k";
  }

  @Override
  public Map<String, Object> run(Launch launch, Map<String, String> params, PrintStream out)
      throws Exception {
    int n = Integer.parseInt(params.getOrDefault("passages", "1000"));
    StageContext ctx = launch.context();
    EmbedSettings es = ctx.settings().embed();
    Path work = Files.createTempDirectory("editforge-bench-retrieval-");
    try {
      return measure(ctx, es, work, n, out);
    } finally {
      try (java.util.stream.Stream<Path> s = Files.walk(work)) {
        for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  private Map<String, Object> measure(
      StageContext ctx, EmbedSettings es, Path work, int n, PrintStream out) throws Exception {
    List<String[]> sample = samplePassages();
    Map<String, Object> f = new LinkedHashMap<>();

    // (1) Spark embed stage vs the bare loop, same passages, same model, same cores.
    List<String> texts = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      String[] p = sample.get(i % sample.size());
      texts.add(EncoderPreset.passageInput(p[2], p[1]));
    }
    int cores = ctx.spark().sparkContext().defaultParallelism();
    double bare;
    try (Encoder enc = Encoders.open(es)) {
      bare = RetrievalBench.bareEmbedPassagesPerSecond(enc, texts);
    }
    runEmbed(
        ctx,
        work.resolve("warm"),
        sample,
        Math.min(n, 2 * cores * 32)); // loads the executors' encoders
    double sparkSeconds = runEmbed(ctx, work.resolve("timed"), sample, n);
    double spark = n / sparkSeconds;
    double ratio = spark / bare;
    out.printf(
        Locale.ROOT,
        "%nEmbedding throughput, %d passages, %s (max length %d), %d Spark task slots%n",
        n,
        es.model(),
        es.maxLength(),
        cores);
    out.printf(Locale.ROOT, "%-34s %12s%n", "path", "passages/s");
    out.printf(Locale.ROOT, "%-34s %12.1f%n", "bare encode loop (one JVM)", bare);
    out.printf(Locale.ROOT, "%-34s %12.1f%n", "Spark embed stage (read..commit)", spark);
    out.printf(Locale.ROOT, "%-34s %12.3f  (goal >= 0.85)%n", "ratio spark / bare", ratio);
    f.put("spark_vs_bare", round(ratio));
    f.put("spark_passages_per_s", round(spark));
    f.put("bare_passages_per_s", round(bare));

    // (2) and (3).
    boolean squad = Files.isRegularFile(SQUAD);
    RetrievalBench.Result r;
    if (squad) {
      EmbedSettings s256 =
          EmbedSettings.BUNDLED_MINILM.equals(es.model()) ? EmbedSettings.bundledMiniLm(256) : es;
      try (Encoder enc = Encoders.open(s256)) {
        r = RetrievalBench.run(work.resolve("hnsw"), SQUAD, enc, out);
      }
    } else {
      r = RetrievalBench.run(work.resolve("hnsw"), null, null, out);
    }
    f.put("recall10_fp32", round(r.fp32().recallAt10()));
    f.put("recall10_int8", round(r.int8().recallAt10()));
    f.put("bytes_fp32", r.fp32().indexBytes());
    f.put("bytes_int8", r.int8().indexBytes());
    if (r.squad() != null) {
      RetrieveSettings rs = ctx.settings().retrieve();
      String hybrid = rs.fusion() == Fusion.Mode.LINEAR ? "hybrid-linear0.5" : "hybrid-rrf60";
      f.put("squad_top5_bm25", round(r.squad().mode("bm25").top5()));
      f.put("squad_top5_dense", round(r.squad().mode("dense").top5()));
      f.put("squad_top5_hybrid", round(r.squad().mode(hybrid).top5()));
    }
    return f;
  }

  /**
   * Writes {@code count} passages (the bundled sample, cycled) as a completed passages table and
   * embeds them; seconds.
   */
  static double runEmbed(StageContext ctx, Path dir, List<String[]> sample, int count)
      throws Exception {
    RunDir run = new RunDir(dir.toString(), ctx.spark().sparkContext().hadoopConfiguration());
    List<Row> rows = new ArrayList<>(count);
    for (int i = 0; i < count; i++) {
      String[] p = sample.get(i % sample.size());
      rows.add(RowFactory.create("bench-" + i, p[0], p[2], p[1], "bench"));
    }
    StageContext c =
        new StageContext(
            ctx.settings(),
            ctx.spark(),
            run,
            true,
            new PrintStream(java.io.OutputStream.nullOutputStream()));
    StageRunner runner = StageRunner.of(c);
    runner.produce(
        "bench",
        StageOutput.of(
            Tables.PASSAGES,
            "-",
            List.of("bench-" + count),
            out -> {
              ctx.spark().createDataFrame(rows, Tables.PASSAGES_SCHEMA).write().parquet(out.uri());
              out.manifest().count("output", count);
            }));
    long t0 = System.nanoTime();
    runner.run(new EmbedJob());
    return (System.nanoTime() - t0) / 1e9;
  }

  /** The bundled sample passages as {id, text, title}. */
  static List<String[]> samplePassages() throws Exception {
    List<String[]> out = new ArrayList<>();
    try (BufferedReader r =
        new BufferedReader(
            new InputStreamReader(
                RetrievalBenchRunner.class
                    .getClassLoader()
                    .getResourceAsStream("editforge/sample/passages.tsv"),
                StandardCharsets.UTF_8))) {
      String line = r.readLine(); // header
      while ((line = r.readLine()) != null) {
        String[] f = line.split("\t", 3);
        if (f.length == 3) {
          out.add(new String[] {f[0], unquote(f[1]), unquote(f[2])});
        }
      }
    }
    return out;
  }

  private static String unquote(String s) {
    if (s.length() >= 2 && s.startsWith("\"") && s.endsWith("\"")) {
      return s.substring(1, s.length() - 1).replace("\"\"", "\"");
    }
    return s;
  }

  private static double round(double v) {
    return Math.round(v * 10000) / 10000.0;
  }
}
