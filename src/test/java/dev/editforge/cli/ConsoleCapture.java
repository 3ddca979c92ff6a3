package dev.editforge.cli;

import dev.editforge.CliRun;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.PrintStream;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.logging.log4j.LogManager;
import org.apache.logging.log4j.core.LoggerContext;

/**
 * Runs the CLI in-process with the log configured as {@code bin/editforge} configures it
 * (conf/log4j2.properties), and captures what a user's terminal would show: the command's stdout
 * and stderr and the log's console appender. The only change to the shipped config is that its
 * console appender follows {@code System.err}, which the capture replaces while the command runs.
 */
record ConsoleCapture(CliRun run, String log) {
  /** All three streams, stdout first (their interleaving is not kept). */
  String all() {
    return run.out() + run.err() + log;
  }

  /**
   * @param level the editforge log level ({@code EDITFORGE_LOG_LEVEL}), e.g. info or debug
   * @param scratch a directory for the adjusted log config
   */
  static ConsoleCapture of(String level, Path scratch, String... args) throws IOException {
    Path shipped = Path.of("conf/log4j2.properties");
    String text =
        Files.readString(shipped).replace("${env:EDITFORGE_LOG_LEVEL:-info}", level)
            + "\nappender.console.follow = true\n";
    Path conf = Files.writeString(scratch.resolve("log4j2-console.properties"), text);
    LoggerContext ctx = (LoggerContext) LogManager.getContext(false);
    URI testConfig = ctx.getConfigLocation();
    PrintStream realErr = System.err;
    ByteArrayOutputStream log = new ByteArrayOutputStream();
    CliRun run;
    try {
      System.setErr(new PrintStream(log, true, StandardCharsets.UTF_8));
      ctx.setConfigLocation(conf.toUri());
      run = CliRun.of(args);
    } finally {
      System.setErr(realErr);
      ctx.setConfigLocation(testConfig);
    }
    return new ConsoleCapture(run, log.toString(StandardCharsets.UTF_8));
  }

  /** The bundled sample's SQuAD articles, copied to {@code dir}. */
  static Path sampleArticles(Path dir) throws IOException {
    Path out = dir.resolve("articles.json");
    try (var in =
        ConsoleCapture.class
            .getClassLoader()
            .getResourceAsStream("editforge/sample/articles.json")) {
      Files.copy(in, out);
    }
    return out;
  }
}
