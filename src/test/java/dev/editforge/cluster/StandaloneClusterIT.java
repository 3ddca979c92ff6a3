package dev.editforge.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.editforge.CliRun;
import dev.editforge.TestSpark;
import dev.editforge.io.Manifest;
import java.io.IOException;
import java.io.InputStream;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Proof of distribution: a real Spark standalone cluster on loopback (a master and two workers,
 * separate JVMs launched from the Maven classpath, with a Spark home assembled from the dependency
 * jars) runs {@code target/editforge.jar} submitted through Spark's own {@code SparkSubmit}; the
 * ingested tables must equal the in-process {@code local[2]} run's.
 */
@Tag("cluster")
class StandaloneClusterIT {
  private static final String[] TABLES = {"articles", "passages", "problems", "instructions"};
  private final List<Process> processes = new ArrayList<>();

  @TempDir Path dir;

  @AfterEach
  void stopCluster() throws IOException {
    for (Process p : processes) {
      p.descendants().forEach(ProcessHandle::destroyForcibly);
      p.destroyForcibly();
    }
    // The Spark home's jars are links into ~/.m2: remove them before JUnit cleans the temp dir.
    if (sparkHome != null && Files.isDirectory(sparkHome.resolve("jars"))) {
      try (Stream<Path> links = Files.list(sparkHome.resolve("jars"))) {
        for (Path link : links.toList()) {
          Files.deleteIfExists(link);
        }
      }
    }
  }

  @Test
  void ingestSubmittedToAStandaloneClusterEqualsTheLocalRun() throws Exception {
    String jarProp = System.getProperty("editforge.appjar", "");
    assumeTrue(
        !jarProp.isBlank(),
        "the application jar was not built in this run (-DskipAppJar): cluster test skipped");
    Path appJar = Path.of(jarProp);
    assertTrue(
        Files.isRegularFile(appJar),
        "mvn should have built " + appJar + " in the package phase, before the ITs");
    String master = startCluster(2, 1, List.of(), Map.of());
    Path sample = extractSample();
    List<String> ingestArgs =
        new ArrayList<>(
            List.of(
                "ingest",
                "--input",
                "squad:" + sample.resolve("articles.json"),
                "--input",
                "dpr:" + sample.resolve("passages.tsv"),
                "--input",
                "logic:" + sample.resolve("logic.jsonl"),
                "--input",
                "instructions:" + sample.resolve("instructions.jsonl"),
                "--set",
                "ingest.min-partitions=3"));

    Path clusterRun = dir.resolve("cluster-run");
    List<String> args = new ArrayList<>(ingestArgs);
    args.addAll(List.of("--run-dir", clusterRun.toString()));
    String submitOut =
        submit(master, appJar, List.of("spark.executor.cores=1", "spark.cores.max=2"), args);
    assertTrue(submitOut.contains("ingest: articles completed: 15 rows"), submitOut);

    List<Path> executorDirs = new ArrayList<>();
    for (Path work : workDirs) {
      try (Stream<Path> s = Files.walk(work, 2)) {
        s.filter(
                p ->
                    p.getParent() != null
                        && p.getParent().getFileName().toString().startsWith("app-"))
            .forEach(executorDirs::add);
      }
    }
    assertFalse(executorDirs.isEmpty(), "the workers launched no executor JVM");

    Path localRun = dir.resolve("local-run");
    List<String> localArgs = new ArrayList<>(ingestArgs);
    localArgs.addAll(List.of("--run-dir", localRun.toString()));
    CliRun local = CliRun.of(localArgs.toArray(new String[0]));
    assertEquals(0, local.exitCode(), local.toString());

    for (String table : TABLES) {
      assertEquals(
          rows(localRun, table),
          rows(clusterRun, table),
          "table " + table + " differs between cluster and local[2]");
      Manifest a =
          Manifest.parse(Files.readString(localRun.resolve(table).resolve("_manifest.json")));
      Manifest b =
          Manifest.parse(Files.readString(clusterRun.resolve(table).resolve("_manifest.json")));
      assertEquals(a.counts(), b.counts(), "manifest counts of " + table);
      assertEquals(
          a.fingerprint(), b.fingerprint(), "same inputs and config give the same fingerprint");
    }
  }

  /**
   * GPU scheduling on a real cluster: one worker owns two (fake) GPUs, the application ships
   * jobs/gpu-discovery.sh with spark.files and names it relative to the executor's working
   * directory, and no task GPU amount is set globally. The event log must show every CPU stage
   * (ingest, embed, index) in the default profile, whose tasks request no GPU, and generate in a
   * stage-level profile asking for one; generate's concurrent tasks receive distinct addresses and
   * record the device they actually used (the CPU here: CUDA is not usable, one warning).
   */
  @Test
  void cpuStagesHoldNoGpuAndGenerateTasksGetDistinctAddresses() throws Exception {
    String jarProp = System.getProperty("editforge.appjar", "");
    assumeTrue(
        !jarProp.isBlank(),
        "the application jar was not built in this run (-DskipAppJar): cluster test skipped");
    // A standalone worker owns its GPUs (an administrator's resources file here); the executors
    // it launches get their addresses from the worker.
    Path gpus = dir.resolve("worker-gpus.json");
    Files.writeString(
        gpus,
        "[{\"id\":{\"componentName\":\"spark.worker\",\"resourceName\":\"gpu\"},"
            + "\"addresses\":[\"0\",\"1\"]}]");
    String master =
        startCluster(
            1,
            2,
            List.of("-Dspark.worker.resource.gpu.amount=2", "-Dspark.worker.resourcesFile=" + gpus),
            Map.of());
    Path sample = extractSample();
    Path model =
        dev.editforge.generate.TinyRandomModel.write(dir.resolve("tiny-model"), 64, 2, 1024, 7);
    Path run = dir.resolve("gpu-run");
    Path events = Files.createDirectories(dir.resolve("events"));
    String out =
        submit(
            master,
            Path.of(jarProp),
            List.of(
                "spark.executor.cores=2",
                "spark.cores.max=2",
                "spark.executor.resource.gpu.amount=2",
                "spark.files=" + Path.of("jobs", "gpu-discovery.sh").toAbsolutePath(),
                "spark.executor.resource.gpu.discoveryScript=./gpu-discovery.sh",
                "spark.eventLog.enabled=true",
                "spark.eventLog.compress=false",
                "spark.eventLog.dir=" + events.toUri()),
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
                "generate.model=" + model,
                "--set",
                "generate.gpus-per-task=1",
                "--set",
                "generate.partitions=6",
                "--set",
                "generate.self-edit.k=2",
                "--set",
                "generate.self-edit.max-new-tokens=2"));
    assertTrue(out.contains("self_edits completed: 30 rows"), out);
    assertTrue(Files.isDirectory(run.resolve("index")), "index ran: " + out);
    Manifest m =
        Manifest.parse(Files.readString(run.resolve("self_edits").resolve("_manifest.json")));
    @SuppressWarnings("unchecked")
    List<String> bindings = (List<String>) m.get("executors");
    assertTrue(
        bindings.stream().anyMatch(b -> b.contains("gpu_address=0")), "bindings " + bindings);
    assertTrue(
        bindings.stream().anyMatch(b -> b.contains("gpu_address=1")), "bindings " + bindings);
    assertTrue(
        bindings.stream().allMatch(b -> b.contains("device=cpu()")),
        "no usable CUDA here, so every task must record the CPU it fell back to: " + bindings);
    assertTrue(
        bindings.stream().noneMatch(b -> b.contains("executor=driver")),
        "tasks ran on executor JVMs: " + bindings);

    // the event log: which profile each stage ran in, and what each profile's tasks request
    Map<Integer, Boolean> profileTaskGpu = new java.util.HashMap<>();
    List<String[]> stages = new ArrayList<>(); // {profile id, job description}
    // Spark 4 may roll event logs into a directory per application: read every file
    try (Stream<Path> logs = Files.walk(events)) {
      for (Path log :
          logs.filter(Files::isRegularFile)
              // Hadoop's local file system writes a .<name>.crc beside each file
              .filter(p -> !p.getFileName().toString().startsWith("."))
              .toList()) {
        for (String line : Files.readAllLines(log)) {
          com.fasterxml.jackson.databind.JsonNode e = dev.editforge.text.Json.MAPPER.readTree(line);
          String event = e.path("Event").asText();
          if (event.equals("SparkListenerResourceProfileAdded")) {
            profileTaskGpu.put(
                e.path("Resource Profile Id").asInt(), e.path("Task Resource Requests").has("gpu"));
          } else if (event.equals("SparkListenerStageSubmitted")) {
            stages.add(
                new String[] {
                  e.path("Stage Info").path("Resource Profile Id").asText(),
                  e.path("Properties").path("spark.job.description").asText("")
                });
          }
        }
      }
    }
    assertEquals(Boolean.FALSE, profileTaskGpu.get(0), "default profile tasks: " + profileTaskGpu);
    assertTrue(
        stages.stream().anyMatch(st -> st[1].startsWith("ingest") && st[0].equals("0")),
        "ingest ran in the default profile: " + describe(stages));
    // a generate job's description stays set for its stage's bookkeeping jobs, which run in the
    // default profile: so "GPU => generate", and at least one generate stage asked for a GPU
    boolean anyGpu = false;
    for (String[] st : stages) {
      boolean gpu = profileTaskGpu.getOrDefault(Integer.parseInt(st[0]), false);
      anyGpu |= gpu;
      assertTrue(
          !gpu || st[1].startsWith("generate"),
          "only generate's tasks request a GPU; stage '"
              + st[1]
              + "' profile "
              + st[0]
              + " in "
              + describe(stages));
    }
    assertTrue(anyGpu, "generate ran in a GPU profile: " + describe(stages) + profileTaskGpu);
  }

  private static String describe(List<String[]> stages) {
    return stages.stream().map(st -> st[0] + ":" + st[1]).toList().toString();
  }

  /** spark-submit of the application jar in client mode; returns what the driver printed. */
  private String submit(
      String master, Path appJar, List<String> sparkConf, List<String> editforgeArgs)
      throws Exception {
    List<String> submit =
        new ArrayList<>(
            List.of(
                "org.apache.spark.deploy.SparkSubmit",
                "--master",
                master,
                "--deploy-mode",
                "client",
                "--class",
                "dev.editforge.Main",
                "--conf",
                "spark.executor.memory=512m",
                "--conf",
                "spark.driver.host=127.0.0.1",
                "--conf",
                "spark.executor.extraJavaOptions=" + String.join(" ", flags),
                "--conf",
                "spark.executorEnv.OPT_OUT_TRACKING=true",
                "--conf",
                "spark.executorEnv.OMP_WAIT_POLICY=PASSIVE"));
    for (String c : sparkConf) {
      submit.addAll(List.of("--conf", c));
    }
    submit.add(appJar.toString());
    submit.addAll(editforgeArgs);
    Path submitLog = dir.resolve("submit-" + System.nanoTime() + ".log");
    Process driver = start(submit, classpath, flags, sparkHome, submitLog, "1g", Map.of());
    assertTrue(
        driver.waitFor(300, TimeUnit.SECONDS),
        "spark-submit did not finish in 5 minutes:\n" + tail(submitLog));
    assertEquals(0, driver.exitValue(), "spark-submit failed:\n" + tail(submitLog));
    return Files.readString(submitLog);
  }

  private String classpath;
  private List<String> flags;
  private Path sparkHome;
  private final List<Path> workDirs = new ArrayList<>();

  /**
   * A master and {@code workers} workers on loopback; returns the master URL once all registered.
   */
  private String startCluster(
      int workers, int cores, List<String> workerFlags, Map<String, String> workerEnv)
      throws Exception {
    Path buildDir = Path.of(System.getProperty("editforge.build.dir"));
    List<String> sparkJars = new ArrayList<>(jars(buildDir.resolve("classpath-provided.txt")));
    // A real Spark distribution also ships these; the app jar leaves them out for that reason.
    jars(buildDir.resolve("classpath-runtime.txt")).stream()
        .filter(j -> SPARK_SHIPS.matcher(Path.of(j).getFileName().toString()).find())
        .forEach(sparkJars::add);
    sparkHome = dir.resolve("spark-home");
    Files.createDirectories(sparkHome.resolve("jars"));
    for (String jar : sparkJars) {
      Path j = Path.of(jar);
      Files.createSymbolicLink(sparkHome.resolve("jars").resolve(j.getFileName()), j);
    }
    classpath = sparkHome.resolve("jars") + "/*";
    flags =
        Files.readAllLines(Path.of("jobs", "jvm-flags")).stream()
            .map(String::strip)
            .filter(l -> !l.isEmpty() && !l.startsWith("#"))
            .toList();
    int masterPort = freePort();
    String master = "spark://127.0.0.1:" + masterPort;
    Path masterLog = dir.resolve("master.log");
    start(
        List.of(
            "org.apache.spark.deploy.master.Master",
            "--host",
            "127.0.0.1",
            "--port",
            Integer.toString(masterPort),
            "--webui-port",
            Integer.toString(freePort())),
        classpath,
        flags,
        sparkHome,
        masterLog,
        "512m",
        Map.of());
    for (int w = 0; w < workers; w++) {
      Path work = Files.createDirectories(dir.resolve("worker-" + w));
      workDirs.add(work);
      List<String> workerCmd = new ArrayList<>(workerFlags);
      workerCmd.addAll(
          List.of(
              "org.apache.spark.deploy.worker.Worker",
              "--host",
              "127.0.0.1",
              "--cores",
              Integer.toString(cores),
              "--memory",
              "1g",
              "--work-dir",
              work.toString(),
              "--webui-port",
              Integer.toString(freePort()),
              master));
      start(
          workerCmd,
          classpath,
          flags,
          sparkHome,
          dir.resolve("worker-" + w + ".log"),
          "512m",
          workerEnv);
    }
    waitFor(masterLog, "Registering worker", workers, 120);
    return master;
  }

  private static final java.util.regex.Pattern SPARK_SHIPS =
      java.util.regex.Pattern.compile(
          "^(slf4j-api|jackson-core|jackson-databind|jackson-annotations|commons-codec|commons-lang3|commons-compress|javassist)-");

  private static List<String> jars(Path classpathFile) throws IOException {
    return Files.readAllLines(classpathFile).stream()
        .flatMap(l -> Stream.of(l.split(java.io.File.pathSeparator)))
        .filter(s -> !s.isBlank())
        .distinct()
        .toList();
  }

  private static List<String> rows(Path run, String table) {
    return TestSpark.session()
        .read()
        .parquet(run.resolve(table).toString())
        .toJSON()
        .collectAsList()
        .stream()
        .sorted()
        .toList();
  }

  private Process start(
      List<String> mainAndArgs,
      String classpath,
      List<String> flags,
      Path sparkHome,
      Path log,
      String heap,
      Map<String, String> env)
      throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx" + heap);
    cmd.addAll(flags);
    cmd.add("-cp");
    cmd.add(classpath);
    cmd.addAll(mainAndArgs);
    ProcessBuilder pb =
        new ProcessBuilder(cmd).redirectErrorStream(true).redirectOutput(log.toFile());
    pb.environment().put("SPARK_HOME", sparkHome.toString());
    pb.environment()
        .put("SPARK_SCALA_VERSION", System.getProperty("editforge.scala.binary.version", "2.13"));
    pb.environment().put("SPARK_LOCAL_IP", "127.0.0.1");
    pb.environment().put("OPT_OUT_TRACKING", "true");
    pb.environment().put("OMP_WAIT_POLICY", "PASSIVE");
    pb.environment().putAll(env);
    Process p = pb.start();
    processes.add(p);
    return p;
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
    throw new AssertionError(
        "cluster did not come up: no "
            + times
            + "× '"
            + marker
            + "' in "
            + log
            + ":\n"
            + tail(log));
  }

  private static String tail(Path log) throws IOException {
    if (!Files.exists(log)) {
      return "(no log)";
    }
    String s = Files.readString(log);
    return s.length() > 6000 ? s.substring(s.length() - 6000) : s;
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }

  private Path extractSample() throws IOException {
    Path sample = Files.createDirectories(dir.resolve("sample"));
    for (String f : List.of("articles.json", "passages.tsv", "logic.jsonl", "instructions.jsonl")) {
      try (InputStream in =
          getClass().getClassLoader().getResourceAsStream("editforge/sample/" + f)) {
        Files.copy(in, sample.resolve(f), StandardCopyOption.REPLACE_EXISTING);
      }
    }
    return sample;
  }
}
