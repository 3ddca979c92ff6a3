package dev.editforge;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * The demo, run once per test JVM through the CLI on the bundled sample: the ITs that look at a
 * finished run (the end-to-end checks, the report in a browser, the notebooks) share it instead of
 * each paying for its own. Thread-safe.
 */
public final class DemoRun {
  private static Path runDir;
  private static CliRun result;

  private DemoRun() {}

  /** The run directory of the shared demo run; runs the demo on first use. */
  public static synchronized Path dir() {
    if (runDir == null) {
      try {
        Path run = Files.createTempDirectory("editforge-demo-").resolve("demo");
        CliRun r = CliRun.of("demo", "--run-dir", run.toString());
        if (r.exitCode() != 0) {
          throw new IllegalStateException("the demo failed: " + r);
        }
        result = r;
        runDir = run;
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
    return runDir;
  }

  /** What the shared demo run printed. */
  public static synchronized CliRun result() {
    dir();
    return result;
  }
}
