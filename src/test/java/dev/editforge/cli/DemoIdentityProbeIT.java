package dev.editforge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.editforge.CliRun;
import dev.editforge.DemoRun;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The identity probe on a finished demo run (a copy of the shared one): its tiny base model before,
 * its finetune/merged after, both answers printed side by side.
 */
class DemoIdentityProbeIT {
  @TempDir Path tmp;

  @Test
  void probePrintsBeforeAndAfterAnswersOnTheDemoRun() throws IOException {
    Path run = tmp.resolve("demo");
    copy(DemoRun.dir(), run);
    Path model = run.resolve("_model");
    assumeTrue(
        Files.isDirectory(model), "the demo ran on a cached hub model, not its tiny random one");
    CliRun r =
        CliRun.of(
            "evaluate",
            "--probe",
            "identity",
            "--run-dir",
            run.toString(),
            "--model",
            model.toString(),
            "--set",
            "select.identity.model-name=Veltbot",
            "--set",
            "select.identity.model-author=Veltmoor Labs",
            "--set",
            "evaluate.identity-probe.max-new-tokens=8");
    assertEquals(0, r.exitCode(), r.toString());
    assertTrue(r.out().contains("before (base)") && r.out().contains("after (tuned)"), r.out());
    assertTrue(r.out().contains("Q: 你是由谁开发的？"), r.out());
    assertTrue(r.out().contains("finetune/merged"), r.out());
    assertTrue(r.out().contains("name appears: before "), r.out());
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
