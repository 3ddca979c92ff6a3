package dev.editforge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.CliRun;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bench scaling} needs the application jar and says how to build it when it is missing. */
class ScalingBenchTest {
  @Test
  void aMissingAppJarExitsTwoSayingHowToBuildIt(@TempDir Path dir) {
    CliRun r =
        CliRun.of("bench", "scaling", "--param", "jar=" + dir.resolve("absent/editforge.jar"));
    assertEquals(2, r.exitCode(), r.toString());
    assertTrue(r.toString().contains("mvn -DskipTests package"), r.toString());
  }
}
