package dev.editforge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.CliRun;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class CliTest {
  @TempDir Path dir;

  @Test
  void helpListsTheCommands() {
    CliRun r = CliRun.of("help");
    assertEquals(0, r.exitCode(), r.toString());
    for (String c : List.of("demo", "run", "ingest", "export")) {
      assertTrue(r.out().contains(c), "help should list " + c + ": " + r.out());
    }
    CliRun one = CliRun.of("help", "ingest");
    assertTrue(one.out().contains("--input"), one.out());
  }

  @Test
  void versionShowsTheCodeDigestAndTheGitCommit() {
    CliRun r = CliRun.of("--version");
    assertEquals(0, r.exitCode(), r.toString());
    assertTrue(
        r.out().matches("(?s)editforge [^\\s+]+\\+[0-9a-f]{12}\\R+git commit \\S+.*"), r.out());
  }

  @Test
  void noCommandUnknownCommandAndUnknownFlagExitTwoWithUsage() {
    CliRun none = CliRun.of();
    assertEquals(2, none.exitCode());
    assertTrue(none.err().contains("Usage: editforge"), none.err());
    CliRun unknown = CliRun.of("frobnicate");
    assertEquals(2, unknown.exitCode());
    assertTrue(unknown.err().contains("frobnicate"), unknown.err());
    CliRun flag = CliRun.of("ingest", "--no-such-flag");
    assertEquals(2, flag.exitCode());
    assertTrue(
        flag.err().contains("--no-such-flag") && flag.err().contains("Usage: editforge ingest"),
        flag.err());
  }

  @Test
  void badSettingsExitTwoWithOneMessageBeforeAnyWork() {
    CliRun typo =
        CliRun.of(
            "ingest", "--set", "ingest.max-rejected-fractoin=0.2", "--run-dir", dir.toString());
    assertEquals(2, typo.exitCode(), typo.toString());
    assertTrue(
        typo.err().contains("unknown setting editforge.ingest.max-rejected-fractoin"), typo.err());
    CliRun range =
        CliRun.of("ingest", "--set", "ingest.max-rejected-fraction=2", "--run-dir", dir.toString());
    assertEquals(2, range.exitCode());
    assertTrue(
        range
            .err()
            .contains("editforge.ingest.max-rejected-fraction = 2: must be a number in [0.0, 1.0]"),
        range.err());
    assertFalse(Files.exists(dir.resolve("_runs")), "nothing ran, so no run record");
  }

  @Test
  void ingestWithoutInputsSaysSo() {
    // Issue 14.5: exit 2, not 0, so a schedule that passes no inputs fails instead of going green.
    CliRun r = CliRun.of("ingest", "--run-dir", dir.toString());
    assertEquals(2, r.exitCode(), r.toString());
    assertTrue(r.out().contains("no inputs"), r.out());
  }

  @Test
  void aMalformedHubIdIsAUsageErrorInOneLine() {
    // Issue 17.7: refused before, but as exit 1 with a stack trace.
    CliRun r =
        CliRun.of(
            "generate-text",
            "--model",
            "Org/../../x",
            "--prompt",
            "hi",
            "--run-dir",
            dir.toString());
    assertEquals(2, r.exitCode(), r.toString());
    List<String> lines = r.err().lines().filter(l -> !l.isBlank()).toList();
    assertEquals(1, lines.size(), r.err());
    assertTrue(
        lines.get(0).startsWith("editforge generate-text: invalid model reference \"Org/../../x\""),
        lines.get(0));
    assertFalse(r.err().contains("Exception"), r.err());
  }
}
