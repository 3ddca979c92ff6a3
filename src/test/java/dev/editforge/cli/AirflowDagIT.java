package dev.editforge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.editforge.CliRun;
import dev.editforge.DemoRun;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Every task of the Airflow DAG, rendered for a sample logical date and params and submitted
 * through jobs/submit to a fake spark-submit, passes {@code --dry-run} in a run dir holding a
 * finished run (a copy of the shared demo run: each task's inputs are what earlier tasks write).
 */
class AirflowDagIT {
  @TempDir Path dir;

  @Test
  void everyTaskDryRunsOnAFinishedRun() throws Exception {
    assumeTrue(Files.isExecutable(Path.of("/usr/bin/python3")), "no python3");
    Process jinja = new ProcessBuilder("/usr/bin/python3", "-c", "import jinja2").start();
    assumeTrue(jinja.waitFor() == 0, "python3 has no jinja2");
    var params = AirflowDagTest.sampleParams(dir, AirflowDagTest.sampleInputs());
    copy(DemoRun.dir(), dir.resolve("runs").resolve("20260115T020000"));
    JsonNode dag = AirflowDagTest.render(params);
    for (JsonNode t : dag.get("tasks")) {
      List<String> args = new ArrayList<>(AirflowDagTest.submitted(dir, t.get("command").asText()));
      args.add("--dry-run");
      CliRun r = CliRun.of(args.toArray(String[]::new));
      assertEquals(0, r.exitCode(), t.get("id").asText() + ": " + args + "\n" + r);
    }
  }

  private static void copy(Path from, Path to) throws IOException {
    try (Stream<Path> all = Files.walk(from)) {
      all.forEach(
          p -> {
            try {
              Path target = to.resolve(from.relativize(p).toString());
              if (Files.isDirectory(p)) {
                Files.createDirectories(target);
              } else {
                Files.copy(p, target);
              }
            } catch (IOException e) {
              throw new UncheckedIOException(e);
            }
          });
    }
  }
}
