package dev.editforge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class QuietConsoleTest {
  @TempDir Path dir;

  @Test
  void aCommandSaysItsConfigHashAndRecordInOneLineNotAConfigDump() throws Exception {
    Path run = dir.resolve("run");
    ConsoleCapture c =
        ConsoleCapture.of(
            "info",
            dir,
            "ingest",
            "--input",
            "squad:" + ConsoleCapture.sampleArticles(dir),
            "--run-dir",
            run.toString());
    assertEquals(0, c.run().exitCode(), c.all());
    List<String> lines = c.all().lines().filter(l -> !l.isBlank()).toList();
    // The whole ingest of the sample, not only what comes before its work, fits in a screenful.
    assertTrue(lines.size() <= 20, lines.size() + " lines:\n" + c.all());
    List<String> config = lines.stream().filter(l -> l.contains("config")).toList();
    assertEquals(1, config.size(), c.all());
    String record;
    try (var files = Files.list(run.resolve("_runs"))) {
      record =
          files
              .filter(f -> f.getFileName().toString().endsWith("-ingest.json"))
              .findFirst()
              .orElseThrow()
              .getFileName()
              .toString();
    }
    assertTrue(
        config
            .get(0)
            .matches(
                "ingest: config [0-9a-f]{16,} \\(.+\\); full config in .*_runs/\\Q"
                    + record
                    + "\\E"),
        config.get(0));
    String hash = config.get(0).replaceAll("ingest: config ([0-9a-f]+) .*", "$1");
    assertTrue(
        Files.readString(run.resolve("_runs").resolve(record))
            .contains("\"config_hash\" : \"" + hash + "\""),
        "the record carries the hash the console showed");
  }
}
