package dev.editforge.report;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * Debian's Chromium driven from its command line, headless and offline: each call starts a fresh
 * browser with its own profile. Console output (console.error, uncaught exceptions, failed loads)
 * reaches stderr through {@code --enable-logging=stderr --v=0} as {@code :CONSOLE} lines, which
 * {@link Page#consoleMessages} collects. Not thread-safe.
 */
final class HeadlessChromium {
  static final Path BINARY = Path.of("/usr/bin/chromium");
  private static final long TIMEOUT_S = 120;

  private final Path work;

  HeadlessChromium(Path work) {
    this.work = work;
  }

  static boolean available() {
    return Files.isExecutable(BINARY);
  }

  /** What one browser run produced: the DOM after load (or the screenshot) and its stderr. */
  record Page(String dom, String stderr) {
    /** The page's console messages, one per line (chromium logs them at INFO as CONSOLE). */
    List<String> consoleMessages() {
      return stderr.lines().filter(l -> l.contains(":CONSOLE")).toList();
    }
  }

  /** The DOM after the page loaded and its scripts ran. */
  Page dumpDom(Path html) throws IOException, InterruptedException {
    return run(List.of("--dump-dom", html.toUri().toString()));
  }

  /** A PNG of the page's first {@code width} x {@code height} pixels. */
  Page screenshot(Path html, Path png, int width, int height)
      throws IOException, InterruptedException {
    return run(
        List.of(
            "--hide-scrollbars",
            "--window-size=" + width + "," + height,
            "--screenshot=" + png.toAbsolutePath(),
            html.toUri().toString()));
  }

  private Page run(List<String> args) throws IOException, InterruptedException {
    Path profile = Files.createTempDirectory(work, "profile-");
    Path out = Files.createTempFile(work, "stdout-", ".txt");
    Path err = Files.createTempFile(work, "stderr-", ".txt");
    List<String> cmd =
        new ArrayList<>(
            List.of(
                BINARY.toString(),
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
                "--enable-logging=stderr",
                "--v=0",
                "--user-data-dir=" + profile));
    cmd.addAll(args);
    Process p =
        new ProcessBuilder(cmd)
            .redirectOutput(out.toFile())
            .redirectError(err.toFile())
            .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
            .start();
    if (!p.waitFor(TIMEOUT_S, TimeUnit.SECONDS)) {
      p.destroyForcibly();
      throw new IllegalStateException("chromium did not finish in " + TIMEOUT_S + " s: " + cmd);
    }
    String stderr = Files.readString(err, StandardCharsets.UTF_8);
    if (p.exitValue() != 0) {
      throw new IllegalStateException("chromium exited " + p.exitValue() + ":\n" + stderr);
    }
    return new Page(Files.readString(out, StandardCharsets.UTF_8), stderr);
  }
}
