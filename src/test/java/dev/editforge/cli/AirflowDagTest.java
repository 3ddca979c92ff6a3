package dev.editforge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.editforge.CliRun;
import dev.editforge.Main;
import dev.editforge.generate.TinyRandomModel;
import dev.editforge.text.Json;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The Airflow DAG, imported against a stub Airflow (src/test/resources/airflow-stub; Airflow itself
 * cannot be installed here): every task's command, rendered by Jinja for a sample logical date and
 * params, goes through the real jobs/submit to a fake spark-submit, and the editforge part of what
 * it received must be a valid editforge command ({@code --dry-run} of the first task here, of every
 * task in {@link AirflowDagIT}).
 */
class AirflowDagTest {
  private static final Path DAG = Path.of("jobs/airflow/editforge_dag.py").toAbsolutePath();
  private static final Path STUB = Path.of("src/test/resources/airflow-stub").toAbsolutePath();
  private static final Path SAMPLE =
      Path.of("src/main/resources/editforge/sample").toAbsolutePath();
  private static final String PYTHON = "/usr/bin/python3";

  @TempDir static Path dir;

  private static String exec(Map<String, String> env, List<String> cmd) throws Exception {
    ProcessBuilder pb = new ProcessBuilder(cmd);
    pb.redirectError(ProcessBuilder.Redirect.INHERIT);
    pb.environment().putAll(env);
    Process p = pb.start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    assertEquals(0, p.waitFor(), cmd + "\n" + out);
    return out;
  }

  @BeforeAll
  static void needsPythonWithJinja() throws Exception {
    assumeTrue(Files.isExecutable(Path.of(PYTHON)), "no " + PYTHON);
    Process p = new ProcessBuilder(PYTHON, "-c", "import jinja2").start();
    assumeTrue(p.waitFor() == 0, PYTHON + " has no jinja2");
  }

  /** The DAG rendered by the stub for these param overrides. */
  static JsonNode render(Map<String, Object> params) throws Exception {
    String json =
        exec(
            Map.of("PYTHONPATH", STUB.toString(), "PYTHONDONTWRITEBYTECODE", "1"),
            List.of(
                PYTHON,
                STUB.resolve("render_dag.py").toString(),
                DAG.toString(),
                Json.MAPPER.writeValueAsString(params),
                Path.of("jobs/airflow/editforge-task").toAbsolutePath().toString()));
    return Json.MAPPER.readTree(json);
  }

  private static Map<String, Object> sampleParams(List<String> inputs) {
    return sampleParams(dir, inputs);
  }

  /**
   * Params for the bundled sample, the tiny random model and local Spark, runs under {@code dir}.
   */
  static Map<String, Object> sampleParams(Path dir, List<String> inputs) {
    Map<String, Object> p = new LinkedHashMap<>();
    p.put("inputs", inputs);
    p.put("model", TinyRandomModel.write(dir.resolve("model"), 64, 2, 1024, 7).toString());
    p.put("editforge_conf", Path.of("conf/local.conf").toAbsolutePath().toString());
    p.put("editforge_home", Path.of("").toAbsolutePath().toString());
    p.put("master", "local[2]");
    p.put("run_root", dir.resolve("runs").toString());
    p.put("self_edits_k", 2);
    p.put("reasoning_n", 2);
    p.put("retrieve_k", 3);
    p.put("select_k", 1);
    p.put("sets", List.of("ttt.epochs=1"));
    return p;
  }

  /**
   * Runs a rendered task command through bash (editforge-task, jobs/submit) with a fake
   * spark-submit and returns the editforge arguments it received after the application jar.
   */
  private static List<String> submitted(String command) throws Exception {
    return submitted(dir, command);
  }

  static List<String> submitted(Path dir, String command) throws Exception {
    Path bin = Files.createDirectories(dir.resolve("bin"));
    Path fake = bin.resolve("spark-submit");
    Files.writeString(
        fake, "#!/usr/bin/env bash\nfor a in \"$@\"; do printf '%s\\n' \"$a\"; done\n");
    Files.setPosixFilePermissions(fake, PosixFilePermissions.fromString("rwxr-xr-x"));
    Path jar = dir.resolve("editforge.jar");
    Files.writeString(jar, "jar");
    List<String> args =
        exec(
                Map.of("PATH", bin + ":" + System.getenv("PATH"), "EDITFORGE_JAR", jar.toString()),
                List.of("bash", "-c", command))
            .lines()
            .toList();
    int i = args.indexOf(jar.toString());
    assertTrue(i > 0, "the jar is submitted: " + args);
    return args.subList(i + 1, args.size());
  }

  static List<String> sampleInputs() {
    return List.of(
        "squad:" + SAMPLE.resolve("articles.json"),
        "dpr:" + SAMPLE.resolve("passages.tsv"),
        "logic:" + SAMPLE.resolve("logic.jsonl"),
        "instructions:" + SAMPLE.resolve("instructions.jsonl"));
  }

  @Test
  void dagIsScheduledSingleRunAndMapsExitCodesToRetryOrFail() throws Exception {
    JsonNode dag = render(sampleParams(sampleInputs()));
    assertEquals(1, dag.get("max_active_runs").asInt());
    assertTrue(dag.get("schedule").isTextual(), "a schedule: " + dag.get("schedule"));
    assertTrue(dag.get("retries").asInt() > 0);
    assertTrue(dag.get("retry_exponential_backoff").asBoolean());
    List<String> ids = new ArrayList<>();
    for (JsonNode t : dag.get("tasks")) {
      ids.add(t.get("id").asText());
      assertTrue(t.get("execution_timeout_s").asDouble() > 0, t.toString());
      assertTrue(
          t.get("command").asText().contains("/runs/20260115T020000"),
          "run dir from the logical date: " + t);
    }
    assertTrue(
        ids.containsAll(
            List.of(
                "ingest",
                "embed",
                "index",
                "retrieve",
                "generate",
                "reasoning",
                "score",
                "select",
                "finetune",
                "evaluate",
                "export",
                "report")),
        ids.toString());
    assertEquals("ingest", ids.get(0));
    assertEquals("report", ids.get(ids.size() - 1));
    // 1 is retried (a plain AirflowException); 2 and 3 fail without retry.
    JsonNode codes = dag.get("exit_codes");
    assertEquals("AirflowException", codes.get("1").asText());
    assertEquals("AirflowFailException", codes.get("2").asText());
    assertEquals("AirflowFailException", codes.get("3").asText());
  }

  @Test
  void everyTaskCommandParsesAsAnEditforgeCommand() throws Exception {
    JsonNode dag = render(sampleParams(sampleInputs()));
    for (JsonNode t : dag.get("tasks")) {
      List<String> args = submitted(t.get("command").asText());
      // picocli throws on an unknown option, a missing value or a bad number.
      var parsed =
          Main.commandLine(new PrintStream(OutputStream.nullOutputStream()))
              .parseArgs(args.toArray(String[]::new));
      assertEquals(args.get(0), parsed.subcommand().commandSpec().name(), t.toString());
    }
  }

  /**
   * The first task dry-runs on the bundled sample. Later tasks read what earlier ones wrote, so a
   * dry-run of each on its own needs a finished run: {@link AirflowDagIT} dry-runs them all on a
   * copy of the demo run.
   */
  @Test
  void firstTaskDryRunsOnTheBundledSample() throws Exception {
    JsonNode first = render(sampleParams(sampleInputs())).get("tasks").get(0);
    List<String> args = new ArrayList<>(submitted(first.get("command").asText()));
    args.add("--dry-run");
    CliRun r = CliRun.of(args.toArray(String[]::new));
    assertEquals(0, r.exitCode(), args + "\n" + r);
  }

  @Test
  void aRunWithNoInputsFailsAtItsFirstTask() throws Exception {
    JsonNode first = render(sampleParams(List.of())).get("tasks").get(0);
    assertEquals("ingest", first.get("id").asText());
    List<String> args = submitted(first.get("command").asText());
    assertTrue(args.stream().noneMatch("--input"::equals), args.toString());
    List<String> dry = new ArrayList<>(args);
    dry.add("--dry-run");
    CliRun dryRun = CliRun.of(dry.toArray(String[]::new));
    assertEquals(2, dryRun.exitCode(), dryRun.toString());
    assertTrue(!dryRun.err().contains("Unknown option"), dryRun.toString());
    CliRun real = CliRun.of(args.toArray(String[]::new));
    assertEquals(2, real.exitCode(), real.toString());
  }

  @Test
  void dagByteCompiles() throws Exception {
    Path out = dir.resolve("dag.pyc");
    exec(
        Map.of(),
        List.of(
            PYTHON,
            "-c",
            "import py_compile, sys; py_compile.compile(sys.argv[1], cfile=sys.argv[2], doraise=True)",
            DAG.toString(),
            out.toString()));
    assertNotNull(Files.readAllBytes(out));
    assertTrue(Files.size(out) > 0);
  }
}
