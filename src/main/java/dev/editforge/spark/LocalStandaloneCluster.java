package dev.editforge.spark;

import java.io.IOException;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * A real Spark standalone cluster on loopback, for the cluster test and {@code bench scaling}: a
 * master and {@code workers} workers, each a child JVM started from the given jars, with a Spark
 * home whose {@code jars/} links to them (what a Spark distribution ships), and applications
 * submitted through Spark's own {@code SparkSubmit} in client mode. {@link #close()} kills every
 * JVM it started, their children included, and removes the jar links (not their targets).
 *
 * <p>Not thread-safe: one owner starts it, submits to it and closes it.
 */
public final class LocalStandaloneCluster implements AutoCloseable {
  private final Path dir;
  private final Path home;
  private final String classpath;
  private final List<String> jvmFlags;
  private final String scalaVersion;
  private final List<Process> processes = new ArrayList<>();
  private final List<Path> workDirs = new ArrayList<>();
  private final String master;
  private int submits;

  /** What to start; see {@link LocalStandaloneCluster#start}. */
  public record Spec(
      List<Path> jars,
      List<String> jvmFlags,
      String scalaBinaryVersion,
      int workers,
      int coresPerWorker,
      String workerMemory,
      List<String> workerJvmFlags,
      Map<String, String> workerEnv) {
    public Spec {
      jars = List.copyOf(jars);
      jvmFlags = List.copyOf(jvmFlags);
      workerJvmFlags = List.copyOf(workerJvmFlags);
      workerEnv = Map.copyOf(workerEnv);
    }

    /** {@code workers} workers of {@code cores} cores and {@code memory}, no extra worker setup. */
    public static Spec of(
        List<Path> jars,
        List<String> jvmFlags,
        String scala,
        int workers,
        int cores,
        String memory) {
      return new Spec(jars, jvmFlags, scala, workers, cores, memory, List.of(), Map.of());
    }

    /**
     * The same, with JVM flags for the workers only (e.g. {@code
     * -Dspark.worker.resource.gpu.amount=2}) and environment variables for them.
     */
    public Spec withWorkerSetup(List<String> flags, Map<String, String> env) {
      return new Spec(
          jars, jvmFlags, scalaBinaryVersion, workers, coresPerWorker, workerMemory, flags, env);
    }
  }

  private LocalStandaloneCluster(Path dir, Spec spec) throws IOException {
    this.dir = Files.createDirectories(dir);
    this.jvmFlags = spec.jvmFlags();
    this.scalaVersion = spec.scalaBinaryVersion();
    home = dir.resolve("spark-home");
    Path jars = Files.createDirectories(home.resolve("jars"));
    for (Path jar : spec.jars()) {
      Path link = jars.resolve(jar.getFileName());
      if (!Files.exists(link, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
        Files.createSymbolicLink(link, jar.toAbsolutePath());
      }
    }
    classpath = jars + "/*";
    master = "spark://127.0.0.1:" + freePort();
  }

  /**
   * Starts the master and the workers under {@code dir} and returns once every worker has
   * registered (at most {@code timeout}); on failure everything started is stopped again.
   */
  public static LocalStandaloneCluster start(Path dir, Spec spec, Duration timeout)
      throws Exception {
    LocalStandaloneCluster c = new LocalStandaloneCluster(dir, spec);
    try {
      c.startDaemons(spec, timeout);
      return c;
    } catch (Exception | Error e) {
      c.close();
      throw e;
    }
  }

  private void startDaemons(Spec spec, Duration timeout) throws Exception {
    Path masterLog = dir.resolve("master.log");
    launch(
        List.of(
            "org.apache.spark.deploy.master.Master",
            "--host",
            "127.0.0.1",
            "--port",
            master.substring(master.lastIndexOf(':') + 1),
            "--webui-port",
            Integer.toString(freePort())),
        List.of(),
        masterLog,
        "512m",
        Map.of());
    for (int w = 0; w < spec.workers(); w++) {
      Path work = Files.createDirectories(dir.resolve("worker-" + w));
      workDirs.add(work);
      launch(
          List.of(
              "org.apache.spark.deploy.worker.Worker",
              "--host",
              "127.0.0.1",
              "--cores",
              Integer.toString(spec.coresPerWorker()),
              "--memory",
              spec.workerMemory(),
              "--work-dir",
              work.toString(),
              "--webui-port",
              Integer.toString(freePort()),
              master),
          spec.workerJvmFlags(),
          dir.resolve("worker-" + w + ".log"),
          "512m",
          spec.workerEnv());
    }
    waitFor(masterLog, "Registering worker", spec.workers(), timeout);
  }

  /** The master URL, {@code spark://127.0.0.1:PORT}. */
  public String masterUrl() {
    return master;
  }

  /** Each worker's {@code --work-dir}: its executors' working directories are below it. */
  public List<Path> workDirs() {
    return List.copyOf(workDirs);
  }

  /**
   * The working directories of every executor the workers launched ({@code
   * <work-dir>/app-*\/<id>}): where files shipped with {@code spark.files} land, and the directory
   * a relative {@code ./gpu-discovery.sh} is resolved against.
   */
  public List<Path> executorDirs() throws IOException {
    List<Path> out = new ArrayList<>();
    for (Path work : workDirs) {
      try (Stream<Path> s = Files.walk(work, 2)) {
        s.filter(
                p ->
                    Files.isDirectory(p)
                        && p.getParent() != null
                        && p.getParent().getFileName().toString().startsWith("app-"))
            .sorted()
            .forEach(out::add);
      }
    }
    return out;
  }

  /** What a finished {@code spark-submit} left: its exit code and its log (driver output). */
  public record Submitted(int exitCode, Path log) {
    public String output() throws IOException {
      return Files.readString(log);
    }

    /** The last {@code chars} characters of the log, for failure messages. */
    public String tail(int chars) throws IOException {
      String s = output();
      return s.length() > chars ? s.substring(s.length() - chars) : s;
    }
  }

  /**
   * Submits {@code appJar} in client mode ({@code --class mainClass}) with {@code sparkConf}
   * ({@code k=v} each, after the cluster's own: loopback driver host, the JVM flags for executors)
   * and {@code appArgs}; waits at most {@code timeout}. A driver still running then is killed and
   * reported with exit code -1.
   */
  public Submitted submit(
      Path appJar,
      String mainClass,
      List<String> sparkConf,
      List<String> appArgs,
      String driverHeap,
      Duration timeout)
      throws Exception {
    List<String> cmd =
        new ArrayList<>(
            List.of(
                "org.apache.spark.deploy.SparkSubmit",
                "--master",
                master,
                "--deploy-mode",
                "client",
                "--class",
                mainClass,
                "--conf",
                "spark.driver.host=127.0.0.1",
                "--conf",
                "spark.executor.extraJavaOptions=" + String.join(" ", jvmFlags),
                "--conf",
                "spark.executorEnv.OPT_OUT_TRACKING=true",
                "--conf",
                "spark.executorEnv.OMP_WAIT_POLICY=PASSIVE"));
    for (String c : sparkConf) {
      cmd.addAll(List.of("--conf", c));
    }
    cmd.add(appJar.toString());
    cmd.addAll(appArgs);
    Path log = dir.resolve("submit-" + (++submits) + ".log");
    Process driver = launch(cmd, List.of(), log, driverHeap, Map.of());
    if (!driver.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      kill(driver);
      return new Submitted(-1, log);
    }
    return new Submitted(driver.exitValue(), log);
  }

  private Process launch(
      List<String> mainAndArgs,
      List<String> extraFlags,
      Path log,
      String heap,
      Map<String, String> env)
      throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx" + heap);
    cmd.addAll(jvmFlags);
    cmd.addAll(extraFlags);
    cmd.add("-cp");
    cmd.add(classpath);
    cmd.addAll(mainAndArgs);
    ProcessBuilder pb =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    Map<String, String> e = new LinkedHashMap<>();
    e.put("SPARK_HOME", home.toString());
    e.put("SPARK_SCALA_VERSION", scalaVersion);
    e.put("SPARK_LOCAL_IP", "127.0.0.1");
    // DJL must not phone home from any of these JVMs, and idle OpenMP threads must not spin.
    e.put("OPT_OUT_TRACKING", "true");
    e.put("OMP_WAIT_POLICY", "PASSIVE");
    e.putAll(env);
    pb.environment().putAll(e);
    Process p = pb.start();
    processes.add(p);
    return p;
  }

  private static void waitFor(Path log, String marker, int times, Duration timeout)
      throws Exception {
    long deadline = System.nanoTime() + timeout.toNanos();
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
    String text = Files.exists(log) ? Files.readString(log) : "(no log)";
    throw new IllegalStateException(
        "the local standalone cluster did not come up: no "
            + times
            + "x '"
            + marker
            + "' in "
            + log
            + ":\n"
            + (text.length() > 6000 ? text.substring(text.length() - 6000) : text));
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private static void kill(Process p) {
    p.descendants().forEach(ProcessHandle::destroyForcibly);
    p.destroyForcibly();
  }

  /** Kills every JVM started here and removes the Spark home's jar links. */
  @Override
  public void close() throws IOException {
    for (Process p : processes) {
      kill(p);
    }
    for (Process p : processes) {
      try {
        p.waitFor(10, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        break;
      }
    }
    Path jars = home.resolve("jars");
    if (Files.isDirectory(jars)) {
      try (Stream<Path> links = Files.list(jars)) {
        for (Path link : links.sorted(Comparator.reverseOrder()).toList()) {
          Files.deleteIfExists(link);
        }
      }
    }
  }
}
