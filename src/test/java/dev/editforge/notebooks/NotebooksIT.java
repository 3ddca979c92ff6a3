package dev.editforge.notebooks;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.editforge.CliRun;
import dev.editforge.DemoRun;
import dev.editforge.text.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Executes every notebook top to bottom with {@code jupyter-nbconvert --execute} on the shared demo
 * run, as CI does. The JSON-lines exports the notebooks fall back to without pyarrow are written
 * once, in this JVM ({@code export --table all}), into a temporary directory handed over as {@code
 * EDITFORGE_EXPORTS_DIR}: no JVM start per notebook, and nothing is written into the demo run.
 */
class NotebooksIT {
  @TempDir Path dir;

  static boolean nbconvertAvailable() {
    try {
      Process p =
          new ProcessBuilder("jupyter-nbconvert", "--version").redirectErrorStream(true).start();
      p.getInputStream().readAllBytes();
      return p.waitFor(60, TimeUnit.SECONDS) && p.exitValue() == 0;
    } catch (IOException e) {
      return false;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return false;
    }
  }

  @Test
  void everyNotebookExecutesOnTheDemoRun() throws Exception {
    assumeTrue(
        nbconvertAvailable(),
        "jupyter-nbconvert is not installed (Debian: jupyter-nbconvert python3-pandas"
            + " python3-matplotlib python3-ipykernel); CI has it");
    Path run = DemoRun.dir();
    Path exports = dir.resolve("exports");
    CliRun export =
        CliRun.of(
            "export", "--table", "all", "--run-dir", run.toString(), "--out", exports.toString());
    assertEquals(0, export.exitCode(), export.toString());

    List<Path> notebooks = NotebooksTest.notebooks();
    for (Path nb : notebooks) {
      Path out = dir.resolve("executed");
      ProcessBuilder pb =
          new ProcessBuilder(
                  "jupyter-nbconvert",
                  "--to",
                  "notebook",
                  "--execute",
                  "--ExecutePreprocessor.timeout=300",
                  "--output-dir",
                  out.toString(),
                  nb.getFileName().toString())
              .directory(NotebooksTest.DIR.toFile())
              .redirectErrorStream(true);
      pb.environment().put("EDITFORGE_RUN_DIR", run.toString());
      pb.environment().put("EDITFORGE_EXPORTS_DIR", exports.toString());
      pb.environment().put("MPLBACKEND", "Agg");
      Process p = pb.start();
      String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      assertTrue(p.waitFor(10, TimeUnit.MINUTES), nb + " did not finish");
      assertEquals(0, p.exitValue(), nb + ":\n" + log);

      JsonNode executed = Json.MAPPER.readTree(out.resolve(nb.getFileName()).toFile());
      int images = 0;
      for (JsonNode cell : executed.get("cells")) {
        for (JsonNode o : cell.path("outputs")) {
          assertTrue(!o.path("output_type").asText().equals("error"), nb + ": " + o);
          if (o.path("data").has("image/png")) {
            images++;
          }
        }
      }
      assertTrue(images > 0, nb + " drew no plot");
    }
    try (var left = Files.list(run)) {
      assertTrue(left.noneMatch(p -> p.getFileName().toString().endsWith(".jsonl")));
    }
  }
}
