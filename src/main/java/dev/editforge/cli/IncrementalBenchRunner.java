package dev.editforge.cli;

import dev.editforge.embed.EmbedJob;
import dev.editforge.index.IndexJob;
import dev.editforge.io.Ids;
import dev.editforge.io.Manifest;
import dev.editforge.io.RowReuse;
import dev.editforge.io.RunDir;
import dev.editforge.io.Tables;
import dev.editforge.spark.PipelineStage;
import dev.editforge.spark.StageContext;
import dev.editforge.spark.StageOutput;
import dev.editforge.spark.StageRunner;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/**
 * {@code editforge bench incremental}: what a rerun costs after a small change to the corpus (issue
 * 18). Embeds {@code passages} generated passages (default 2,000) from scratch, changes {@code
 * change-percent} of them (default 1), and reruns embed, then does the same for index; prints both
 * times and {@code rerun_vs_full} (goal ≤ 0.1). The encoder is warmed on a separate small corpus
 * first, so neither timing pays for loading it.
 */
public final class IncrementalBenchRunner implements BenchCommand.Bench {

  @Override
  public String description() {
    return "embed and index reruns after a 1% change vs a full run";
  }

  @Override
  public Map<String, Object> run(Launch launch, Map<String, String> params, PrintStream out)
      throws Exception {
    int n = Integer.parseInt(params.getOrDefault("passages", "2000"));
    double percent = Double.parseDouble(params.getOrDefault("change-percent", "1"));
    Path work = Files.createTempDirectory("editforge-bench-incremental-");
    try {
      return measure(launch.context(), work, n, percent, out);
    } finally {
      try (java.util.stream.Stream<Path> s = Files.walk(work)) {
        for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(p);
        }
      }
    }
  }

  private static Map<String, Object> measure(
      StageContext ctx, Path work, int n, double percent, PrintStream out) throws Exception {
    List<String[]> sample = RetrievalBenchRunner.samplePassages();
    List<String[]> corpus = corpus(sample, n);
    int changed = (int) Math.max(1, Math.round(n * percent / 100));

    // Warm the executor's encoder (and Spark's code paths) on a corpus of its own.
    StageRunner warm = runner(ctx, work.resolve("warm"), true);
    writePassages(warm, corpus.subList(0, Math.min(n, 64)));
    warm.run(new EmbedJob());

    StageRunner full = runner(ctx, work.resolve("run"), true);
    writePassages(full, corpus);
    double embedFull = time(full, new EmbedJob());
    double indexFull = time(full, new IndexJob());

    // Change every (n / changed)-th passage's text: each becomes a new passage id, as ingest would.
    List<String[]> edited = new ArrayList<>(corpus);
    int step = n / changed;
    for (int i = 0; i < changed; i++) {
      String[] p = edited.get(i * step);
      edited.set(i * step, new String[] {p[0], p[1] + " (revised edition)", p[2]});
    }
    StageRunner rerun = runner(ctx, work.resolve("run"), false);
    writePassages(runner(ctx, work.resolve("run"), true), edited);
    double embedRerun = time(rerun, new EmbedJob());
    Manifest em =
        new RunDir(work.resolve("run").toString(), conf(ctx))
            .manifest(Tables.EMBEDDINGS)
            .orElseThrow();
    double indexRerun = time(rerun, new IndexJob());
    Manifest im =
        new RunDir(work.resolve("run").toString(), conf(ctx)).manifest(Tables.INDEX).orElseThrow();

    out.printf(Locale.ROOT, "%d passages, %d changed (%.1f%%)%n", n, changed, percent);
    out.printf(
        Locale.ROOT,
        "%-8s %10s %10s %14s %8s %9s %8s%n",
        "stage",
        "full s",
        "rerun s",
        "rerun/full",
        "reused",
        "computed",
        "removed");
    out.printf(
        Locale.ROOT,
        "%-8s %10.2f %10.2f %14s %8d %9d %8d%n",
        "embed",
        embedFull,
        embedRerun,
        BenchCommand.fmt(embedRerun / embedFull),
        em.count(RowReuse.REUSED),
        em.count(RowReuse.COMPUTED),
        em.count(RowReuse.REMOVED));
    out.printf(
        Locale.ROOT,
        "%-8s %10.2f %10.2f %14s %8d %9d %8d%n",
        "index",
        indexFull,
        indexRerun,
        BenchCommand.fmt(indexRerun / indexFull),
        im.count(RowReuse.REUSED),
        im.count(RowReuse.COMPUTED),
        im.count(RowReuse.REMOVED));
    out.println("goal: embed rerun_vs_full <= 0.1 (index: " + im.get("build") + " build)");

    Map<String, Object> f = new LinkedHashMap<>();
    f.put("passages", n);
    f.put("changed", changed);
    f.put("full_s", round(embedFull));
    f.put("rerun_s", round(embedRerun));
    f.put("rerun_vs_full", round(embedRerun / embedFull));
    f.put("reused", em.count(RowReuse.REUSED));
    f.put("computed", em.count(RowReuse.COMPUTED));
    f.put("removed", em.count(RowReuse.REMOVED));
    f.put("index_full_s", round(indexFull));
    f.put("index_rerun_s", round(indexRerun));
    f.put("index_rerun_vs_full", round(indexRerun / indexFull));
    return f;
  }

  /**
   * {@code n} distinct passages as {id, text, title}: two bundled sample passages joined, about 100
   * words like psgs_w100's (the corpus this stage exists for), each marked with its number so every
   * passage (and its vector) is its own.
   */
  static List<String[]> corpus(List<String[]> sample, int n) {
    List<String[]> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      String[] p = sample.get(i % sample.size());
      String[] q = sample.get((i * 7 + 3) % sample.size());
      out.add(new String[] {"bench-" + i, p[1] + " " + q[1] + " (" + i + ")", p[2]});
    }
    return out;
  }

  private static org.apache.hadoop.conf.Configuration conf(StageContext ctx) {
    return ctx.spark().sparkContext().hadoopConfiguration();
  }

  private static StageRunner runner(StageContext ctx, Path dir, boolean force) {
    RunDir run = new RunDir(dir.toString(), conf(ctx));
    return StageRunner.of(
        new StageContext(
            ctx.settings(),
            ctx.spark(),
            run,
            force,
            new PrintStream(java.io.OutputStream.nullOutputStream())));
  }

  /** Writes the passages table as ingest would: ids are content hashes. */
  private static void writePassages(StageRunner runner, List<String[]> passages) throws Exception {
    List<Row> rows = new ArrayList<>(passages.size());
    for (String[] p : passages) {
      rows.add(RowFactory.create(Ids.of("bench", p[0], p[2], p[1]), p[0], p[2], p[1], "bench"));
    }
    StageContext ctx = runner.context();
    runner.produce(
        "bench",
        StageOutput.of(
            Tables.PASSAGES,
            "-",
            List.of(
                "bench-" + Ids.of(rows.stream().map(r -> r.getString(0)).toArray(String[]::new))),
            out -> {
              ctx.spark().createDataFrame(rows, Tables.PASSAGES_SCHEMA).write().parquet(out.uri());
              out.manifest().count("output", rows.size());
            }));
  }

  private static double time(StageRunner runner, PipelineStage stage) throws Exception {
    long t0 = System.nanoTime();
    runner.run(stage);
    return (System.nanoTime() - t0) / 1e9;
  }

  private static double round(double v) {
    return Math.round(v * 10000) / 10000.0;
  }
}
