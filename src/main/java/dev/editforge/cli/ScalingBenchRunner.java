package dev.editforge.cli;

import dev.editforge.config.SettingsException;
import dev.editforge.io.Manifest;
import dev.editforge.spark.LocalStandaloneCluster;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Stream;

/**
 * {@code bench scaling}: the same embed + generate work (the bundled sample, a tiny random model)
 * on a local Spark standalone cluster with one worker, then two, one core each; prints the speedup
 * of the two stages' time ({@code two_vs_one}, goal at least 1.7). The cluster ({@link
 * LocalStandaloneCluster}) runs on this JVM's classpath jars; it is stopped when each round ends.
 *
 * <p>Not thread-safe: one run at a time.
 */
final class ScalingBenchRunner implements BenchCommand.Bench {
  private static final String[] SAMPLE = {"articles.json", "passages.tsv"};

  @Override
  public String description() {
    return "embed + generate on a local standalone cluster: two one-core workers vs one";
  }

  @Override
  public Map<String, Object> run(Launch launch, Map<String, String> params, PrintStream out)
      throws Exception {
    Path jar = Path.of(params.getOrDefault("jar", "target/editforge.jar")).toAbsolutePath();
    if (!Files.isRegularFile(jar)) {
      throw new SettingsException(
          "bench scaling needs the application jar "
              + jar
              + ", which is missing: run `mvn -DskipTests package` first (or give jar=PATH)");
    }
    int k = Integer.parseInt(params.getOrDefault("k", "4"));
    int tokens = Integer.parseInt(params.getOrDefault("tokens", "24"));
    Path dir = Files.createTempDirectory("editforge-bench-scaling-");
    Path sample = Files.createDirectories(dir.resolve("sample"));
    for (String f : SAMPLE) {
      try (InputStream in =
          ScalingBenchRunner.class.getClassLoader().getResourceAsStream("editforge/sample/" + f)) {
        Files.copy(in, sample.resolve(f), StandardCopyOption.REPLACE_EXISTING);
      }
    }
    Map<Integer, Double> seconds = new LinkedHashMap<>();
    for (int workers : new int[] {1, 2}) {
      LocalStandaloneCluster.Spec spec =
          LocalStandaloneCluster.Spec.of(
              classpathJars(),
              jvmFlags(),
              scala.util.Properties.versionNumberString().replaceAll("^(\\d+\\.\\d+).*", "$1"),
              workers,
              1,
              "3g");
      try (LocalStandaloneCluster c =
          LocalStandaloneCluster.start(
              dir.resolve("cluster-" + workers), spec, Duration.ofMinutes(5))) {
        Path run = dir.resolve("run-" + workers);
        LocalStandaloneCluster.Submitted done =
            c.submit(
                jar,
                "dev.editforge.Main",
                List.of(
                    "spark.executor.cores=1",
                    "spark.executor.memory=2g",
                    "spark.cores.max=" + workers),
                List.of(
                    "run",
                    "--to",
                    "generate",
                    "--input",
                    "squad:" + sample.resolve("articles.json"),
                    "--input",
                    "dpr:" + sample.resolve("passages.tsv"),
                    "--run-dir",
                    run.toString(),
                    "--set",
                    "generate.model=tiny-random",
                    "--set",
                    "generate.partitions=8",
                    "--set",
                    "generate.self-edit.k=" + k,
                    "--set",
                    "generate.self-edit.max-new-tokens=" + tokens,
                    "--set",
                    "ingest.min-partitions=4"),
                "2g",
                Duration.ofMinutes(30));
        if (done.exitCode() != 0) {
          throw new IllegalStateException(
              "the benchmark application failed (exit "
                  + (done.exitCode() < 0 ? "none: timed out" : done.exitCode())
                  + "); see "
                  + done.log());
        }
        double embed = stageSeconds(run, "embeddings");
        double generate = stageSeconds(run, "self_edits");
        seconds.put(workers, embed + generate);
        out.printf(
            Locale.ROOT,
            "%d worker(s) x 1 core: embed %.1f s + generate %.1f s = %.1f s%n",
            workers,
            embed,
            generate,
            embed + generate);
      }
    }
    deleteTree(dir);
    double ratio = seconds.get(1) / seconds.get(2);
    out.printf(Locale.ROOT, "two_vs_one = %.2f (goal >= 1.7)%n", ratio);
    Map<String, Object> fields = new LinkedHashMap<>();
    fields.put("two_vs_one", String.format(Locale.ROOT, "%.2f", ratio));
    fields.put("one_worker_s", String.format(Locale.ROOT, "%.1f", seconds.get(1)));
    fields.put("two_workers_s", String.format(Locale.ROOT, "%.1f", seconds.get(2)));
    return fields;
  }

  /**
   * Removes the bench's temporary directory (the Spark homes' jar links only, not their targets).
   */
  private static void deleteTree(Path dir) throws IOException {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }

  /** A table's time from its manifest's started_at/ended_at. */
  static double stageSeconds(Path run, String table) throws IOException {
    Manifest m = Manifest.parse(Files.readString(run.resolve(table).resolve("_manifest.json")));
    return Duration.between(
                Instant.parse(String.valueOf(m.get("started_at"))), Instant.parse(m.endedAt()))
            .toMillis()
        / 1000.0;
  }

  /** The jars of this JVM's classpath: what the cluster's Spark home links to. */
  private static List<Path> classpathJars() {
    List<Path> jars = new ArrayList<>();
    for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
      Path p = Path.of(entry);
      if (entry.endsWith(".jar") && Files.isRegularFile(p)) {
        jars.add(p.toAbsolutePath());
      }
    }
    return jars;
  }

  /** The flags Spark on Java 17 and DJL need, as this JVM was started with them. */
  private static List<String> jvmFlags() {
    return ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
        .filter(
            a ->
                a.startsWith("--add-opens")
                    || a.startsWith("-Djdk.reflect")
                    || a.startsWith("-Dio.netty")
                    || a.startsWith("-Dai.djl"))
        .toList();
  }
}
