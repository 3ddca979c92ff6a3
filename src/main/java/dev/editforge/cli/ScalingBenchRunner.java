package dev.editforge.cli;

import dev.editforge.config.SettingsException;
import dev.editforge.io.Manifest;
import java.io.IOException;
import java.io.InputStream;
import java.io.PrintStream;
import java.lang.management.ManagementFactory;
import java.net.ServerSocket;
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
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * {@code bench scaling}: the same embed + generate work (the bundled sample, a tiny random model)
 * on a local Spark standalone cluster with one worker, then two, one core each; prints the speedup
 * of the two stages' time ({@code two_vs_one}, goal at least 1.7). The master, workers and the
 * driver ({@code SparkSubmit} of the application jar) are child JVMs on this JVM's classpath, with
 * a Spark home whose {@code jars/} links to it; all of them are stopped when it ends.
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
      try (Cluster c = new Cluster(dir.resolve("cluster-" + workers), workers)) {
        Path run = dir.resolve("run-" + workers);
        c.submit(
            jar,
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
                "ingest.min-partitions=4"));
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

  /** A master and {@code workers} one-core workers on loopback; closing kills them. */
  private static final class Cluster implements AutoCloseable {
    private final List<Process> processes = new ArrayList<>();
    private final Path dir;
    private final Path home;
    private final String classpath;
    private final List<String> flags;
    private final String master;
    private final int workers;

    Cluster(Path dir, int workers) throws Exception {
      this.dir = Files.createDirectories(dir);
      this.workers = workers;
      home = Files.createDirectories(dir.resolve("spark-home"));
      Path jars = Files.createDirectories(home.resolve("jars"));
      for (String entry : System.getProperty("java.class.path").split(java.io.File.pathSeparator)) {
        Path p = Path.of(entry);
        if (entry.endsWith(".jar") && Files.isRegularFile(p)) {
          Path link = jars.resolve(p.getFileName());
          if (!Files.exists(link)) {
            Files.createSymbolicLink(link, p.toAbsolutePath());
          }
        }
      }
      classpath = jars + "/*";
      flags =
          ManagementFactory.getRuntimeMXBean().getInputArguments().stream()
              .filter(
                  a ->
                      a.startsWith("--add-opens")
                          || a.startsWith("-Djdk.reflect")
                          || a.startsWith("-Dio.netty")
                          || a.startsWith("-Dai.djl"))
              .toList();
      int port = freePort();
      master = "spark://127.0.0.1:" + port;
      Path masterLog = dir.resolve("master.log");
      start(
          List.of(
              "org.apache.spark.deploy.master.Master",
              "--host",
              "127.0.0.1",
              "--port",
              Integer.toString(port),
              "--webui-port",
              Integer.toString(freePort())),
          masterLog,
          "512m");
      for (int w = 0; w < workers; w++) {
        start(
            List.of(
                "org.apache.spark.deploy.worker.Worker",
                "--host",
                "127.0.0.1",
                "--cores",
                "1",
                "--memory",
                "3g",
                "--work-dir",
                Files.createDirectories(dir.resolve("work-" + w)).toString(),
                "--webui-port",
                Integer.toString(freePort()),
                master),
            dir.resolve("worker-" + w + ".log"),
            "512m");
      }
      waitFor(masterLog, "Registering worker", workers, 120);
    }

    void submit(Path jar, List<String> args) throws Exception {
      List<String> cmd =
          new ArrayList<>(
              List.of(
                  "org.apache.spark.deploy.SparkSubmit",
                  "--master",
                  master,
                  "--class",
                  "dev.editforge.Main",
                  "--conf",
                  "spark.driver.host=127.0.0.1",
                  "--conf",
                  "spark.executor.cores=1",
                  "--conf",
                  "spark.executor.memory=2g",
                  "--conf",
                  "spark.cores.max=" + workers,
                  "--conf",
                  "spark.executor.extraJavaOptions=" + String.join(" ", flags),
                  "--conf",
                  "spark.executorEnv.OPT_OUT_TRACKING=true",
                  "--conf",
                  "spark.executorEnv.OMP_WAIT_POLICY=PASSIVE",
                  jar.toString()));
      cmd.addAll(args);
      Path log = dir.resolve("driver.log");
      Process driver = start(cmd, log, "2g");
      if (!driver.waitFor(30, TimeUnit.MINUTES) || driver.exitValue() != 0) {
        throw new IllegalStateException(
            "the benchmark application failed (exit "
                + (driver.isAlive() ? "none: timed out" : driver.exitValue())
                + "); see "
                + log);
      }
    }

    private Process start(List<String> mainAndArgs, Path log, String heap) throws IOException {
      List<String> cmd = new ArrayList<>();
      cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
      cmd.add("-Xmx" + heap);
      cmd.addAll(flags);
      cmd.add("-cp");
      cmd.add(classpath);
      cmd.addAll(mainAndArgs);
      ProcessBuilder pb =
          new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
      pb.environment().put("SPARK_HOME", home.toString());
      pb.environment()
          .put(
              "SPARK_SCALA_VERSION",
              scala.util.Properties.versionNumberString().replaceAll("^(\\d+\\.\\d+).*", "$1"));
      pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
      pb.environment().put("OPT_OUT_TRACKING", "true");
      pb.environment().put("OMP_WAIT_POLICY", "PASSIVE");
      Process p = pb.start();
      processes.add(p);
      return p;
    }

    @Override
    public void close() {
      for (Process p : processes) {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
      }
    }

    private static void waitFor(Path log, String marker, int times, int seconds) throws Exception {
      long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
      while (System.nanoTime() < deadline) {
        if (Files.exists(log)) {
          String text = Files.readString(log);
          int n = 0;
          for (int i = text.indexOf(marker); i >= 0; i = text.indexOf(marker, i + 1)) {
            n++;
          }
          if (n >= times) {
            return;
          }
        }
        Thread.sleep(500);
      }
      throw new IllegalStateException("the local cluster did not come up; see " + log);
    }

    private static int freePort() throws IOException {
      try (ServerSocket s = new ServerSocket(0)) {
        return s.getLocalPort();
      }
    }
  }
}
