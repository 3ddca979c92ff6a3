package dev.editforge.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.editforge.CliRun;
import dev.editforge.TestSpark;
import dev.editforge.io.Manifest;
import dev.editforge.spark.LocalStandaloneCluster;
import dev.editforge.text.Json;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Pattern;
import java.util.stream.Stream;
import org.apache.spark.resource.ResourceInformation;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Tag;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Proof of distribution: a real Spark standalone cluster on loopback ({@link
 * LocalStandaloneCluster}: a master and workers, separate JVMs launched from the Maven classpath,
 * with a Spark home assembled from the dependency jars) runs {@code target/editforge.jar} submitted
 * through Spark's own {@code SparkSubmit}; the ingested tables must equal the in-process {@code
 * local[2]} run's, and GPUs go to the GPU stages' tasks only.
 */
@Tag("cluster")
class StandaloneClusterIT {
  private static final String[] TABLES = {"articles", "passages", "problems", "instructions"};
  private LocalStandaloneCluster cluster;

  @TempDir Path dir;

  @AfterEach
  void stopCluster() throws IOException {
    // Also removes the Spark home's jar links into ~/.m2 before JUnit cleans the temp dir.
    if (cluster != null) {
      cluster.close();
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
    cluster = startCluster(2, 1, "1g", List.of(), Map.of());
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
        submit(
            appJar,
            List.of("spark.executor.cores=1", "spark.cores.max=2", "spark.executor.memory=512m"),
            args);
    assertTrue(submitOut.contains("ingest: articles completed: 15 rows"), submitOut);

    List<Path> executorDirs = cluster.executorDirs();
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
   * GPU scheduling on a real cluster. One worker owns two (fake) GPUs; the application ships
   * jobs/gpu-discovery.sh with spark.files and names it {@code ./gpu-discovery.sh}, relative to the
   * executor's working directory, as conf/cluster.conf does; no task GPU amount is set globally.
   * Every CPU stage (ingest, embed, index, retrieve) runs in the default profile, whose tasks
   * request no GPU; generate and score run in stage-level profiles asking for one, and their
   * concurrent tasks receive distinct addresses, which each stage records with the device it
   * actually used (the CPU here: CUDA is not usable, one warning).
   *
   * <p>A standalone executor gets its addresses from its worker (Spark hands it a resources file)
   * and never runs its own discovery script, which YARN and Kubernetes executors do before any
   * task: so the test checks what those would run, the file spark.files put into every executor's
   * working directory, by running {@code ./gpu-discovery.sh} there and parsing its output with
   * Spark's own parser.
   */
  @Test
  void cpuStagesHoldNoGpuWhileGenerateAndScoreTasksGetDistinctAddresses() throws Exception {
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
    cluster =
        startCluster(
            1,
            2,
            "2g",
            List.of("-Dspark.worker.resource.gpu.amount=2", "-Dspark.worker.resourcesFile=" + gpus),
            Map.of());
    Path sample = extractSample();
    Path model =
        dev.editforge.generate.TinyRandomModel.write(dir.resolve("tiny-model"), 64, 2, 1024, 7);
    Path run = dir.resolve("gpu-run");
    Path events = Files.createDirectories(dir.resolve("events"));
    Path script = Path.of("jobs", "gpu-discovery.sh").toAbsolutePath();
    String out =
        submit(
            Path.of(jarProp),
            List.of(
                "spark.executor.cores=2",
                "spark.cores.max=2",
                "spark.executor.memory=1g",
                "spark.executor.resource.gpu.amount=2",
                "spark.files=" + script,
                "spark.executor.resource.gpu.discoveryScript=./gpu-discovery.sh",
                "spark.eventLog.enabled=true",
                "spark.eventLog.compress=false",
                "spark.eventLog.dir=" + events.toUri()),
            List.of(
                "run",
                "--to",
                "score",
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
                "generate.self-edit.k=1",
                "--set",
                "generate.self-edit.max-new-tokens=2",
                "--set",
                "ttt.model=" + model,
                "--set",
                "ttt.device=gpu",
                "--set",
                "ttt.eval-times=1",
                "--set",
                "ttt.epochs=1",
                "--set",
                "ttt.max-new-tokens=2",
                "--set",
                "ttt.max-length=64",
                "--set",
                "ttt.pad-to=longest",
                "--set",
                "ttt.commit-every=2"));
    assertTrue(out.contains("self_edits completed: 15 rows"), out);
    assertTrue(Files.isDirectory(run.resolve("index")), "index ran: " + out);
    assertTrue(
        Files.exists(run.resolve("ttt_scores").resolve("_manifest.json")), "score ran: " + out);

    // generate's record: executor / gpu_address / device per task
    Manifest generated =
        Manifest.parse(Files.readString(run.resolve("self_edits").resolve("_manifest.json")));
    @SuppressWarnings("unchecked")
    List<String> bindings = (List<String>) generated.get("executors");
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

    // score's record: executor / assigned / device / used per task
    Manifest scored =
        Manifest.parse(Files.readString(run.resolve("ttt_scores").resolve("_manifest.json")));
    @SuppressWarnings("unchecked")
    List<String> devices = (List<String>) scored.get("devices");
    assertTrue(devices.stream().anyMatch(d -> d.contains("assigned=0 ")), "devices " + devices);
    assertTrue(devices.stream().anyMatch(d -> d.contains("assigned=1 ")), "devices " + devices);
    assertTrue(
        devices.stream().allMatch(d -> d.contains("device=gpu:") && d.endsWith("used=cpu()")),
        "each score task asked for its assigned GPU and fell back to the CPU: " + devices);

    // the event log: which profile each stage ran in, and what each profile's tasks request
    Map<Integer, Boolean> profileTaskGpu = new HashMap<>();
    List<String[]> stages = new ArrayList<>(); // {profile id, job description}
    // Spark 4 may roll event logs into a directory per application: read every file
    try (Stream<Path> logs = Files.walk(events)) {
      for (Path log :
          logs.filter(Files::isRegularFile)
              // Hadoop's local file system writes a .<name>.crc beside each file
              .filter(p -> !p.getFileName().toString().startsWith("."))
              .toList()) {
        for (String line : Files.readAllLines(log)) {
          JsonNode e = Json.MAPPER.readTree(line);
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
    for (String cpuStage : List.of("ingest", "embed", "index")) {
      assertTrue(
          stages.stream().anyMatch(st -> st[1].startsWith(cpuStage + " ")),
          cpuStage + " ran Spark jobs: " + describe(stages));
      assertTrue(
          stages.stream()
              .filter(st -> st[1].startsWith(cpuStage + " "))
              .allMatch(st -> !profileTaskGpu.getOrDefault(Integer.parseInt(st[0]), false)),
          cpuStage + "'s tasks hold no GPU: " + describe(stages) + profileTaskGpu);
    }
    // A GPU stage's description stays set for its bookkeeping jobs, which run in the default
    // profile: so "GPU => generate or score", and each of them ran at least one stage on a GPU.
    for (String[] st : stages) {
      boolean gpu = profileTaskGpu.getOrDefault(Integer.parseInt(st[0]), false);
      assertTrue(
          !gpu || st[1].startsWith("generate") || st[1].startsWith("score"),
          "only generate's and score's tasks request a GPU; stage '"
              + st[1]
              + "' profile "
              + st[0]
              + " in "
              + describe(stages));
    }
    for (String gpuStage : List.of("generate", "score")) {
      assertTrue(
          stages.stream()
              .anyMatch(
                  st ->
                      st[1].startsWith(gpuStage)
                          && profileTaskGpu.getOrDefault(Integer.parseInt(st[0]), false)),
          gpuStage + " ran in a GPU profile: " + describe(stages) + profileTaskGpu);
    }

    // The discovery script as YARN / Kubernetes executors run it: shipped (not a path on the
    // worker), found relative to the executor's working directory, and output Spark can parse.
    List<Path> executorDirs = cluster.executorDirs();
    assertFalse(executorDirs.isEmpty(), "the worker launched no executor JVM");
    for (Path executorDir : executorDirs) {
      Path shipped = executorDir.resolve("gpu-discovery.sh");
      assertTrue(Files.isRegularFile(shipped), "spark.files shipped the script to " + executorDir);
      assertEquals(Files.readString(script), Files.readString(shipped), "the shipped script");
      ProcessBuilder pb =
          new ProcessBuilder("./gpu-discovery.sh")
              .directory(executorDir.toFile())
              .redirectErrorStream(true);
      pb.environment().put("EDITFORGE_FAKE_GPUS", "2");
      Process p = pb.start();
      String json = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
      assertTrue(p.waitFor(30, TimeUnit.SECONDS), "discovery script finished");
      assertEquals(0, p.exitValue(), json);
      ResourceInformation info = ResourceInformation.parseJson(json);
      assertEquals("gpu", info.name(), json);
      assertEquals(List.of("0", "1"), List.of(info.addresses()), json);
    }
  }

  private static String describe(List<String[]> stages) {
    return stages.stream().map(st -> st[0] + ":" + st[1]).toList().toString();
  }

  /** spark-submit of the application jar in client mode; returns what the driver printed. */
  private String submit(Path appJar, List<String> sparkConf, List<String> editforgeArgs)
      throws Exception {
    LocalStandaloneCluster.Submitted done =
        cluster.submit(
            appJar, "dev.editforge.Main", sparkConf, editforgeArgs, "1g", Duration.ofMinutes(25));
    assertEquals(
        0,
        done.exitCode(),
        (done.exitCode() < 0 ? "spark-submit did not finish in 25 minutes" : "spark-submit failed")
            + ":\n"
            + done.tail(6000));
    return done.output();
  }

  /**
   * A master and {@code workers} workers on loopback, started with the project's JVM flags
   * (jobs/jvm-flags) and the Spark jars a distribution ships; returns once all registered.
   */
  private LocalStandaloneCluster startCluster(
      int workers,
      int cores,
      String memory,
      List<String> workerFlags,
      Map<String, String> workerEnv)
      throws Exception {
    Path buildDir = Path.of(System.getProperty("editforge.build.dir"));
    List<Path> sparkJars = new ArrayList<>(jars(buildDir.resolve("classpath-provided.txt")));
    // A real Spark distribution also ships these; the app jar leaves them out for that reason.
    jars(buildDir.resolve("classpath-runtime.txt")).stream()
        .filter(j -> SPARK_SHIPS.matcher(j.getFileName().toString()).find())
        .forEach(sparkJars::add);
    List<String> flags =
        Files.readAllLines(Path.of("jobs", "jvm-flags")).stream()
            .map(String::strip)
            .filter(l -> !l.isEmpty() && !l.startsWith("#"))
            .toList();
    LocalStandaloneCluster.Spec spec =
        LocalStandaloneCluster.Spec.of(
                sparkJars,
                flags,
                System.getProperty("editforge.scala.binary.version", "2.13"),
                workers,
                cores,
                memory)
            .withWorkerSetup(workerFlags, workerEnv);
    return LocalStandaloneCluster.start(dir.resolve("cluster"), spec, Duration.ofMinutes(5));
  }

  private static final Pattern SPARK_SHIPS =
      Pattern.compile(
          "^(slf4j-api|jackson-core|jackson-databind|jackson-annotations|commons-codec|commons-lang3|commons-compress|javassist)-");

  private static List<Path> jars(Path classpathFile) throws IOException {
    return Files.readAllLines(classpathFile).stream()
        .flatMap(l -> Stream.of(l.split(java.io.File.pathSeparator)))
        .filter(s -> !s.isBlank())
        .distinct()
        .map(Path::of)
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
