package dev.editforge.judge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.CliRun;
import dev.editforge.SharedData;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.regex.Matcher;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code editforge evaluate-judge} through the CLI: the table, the JUDGE line, the exit codes. */
class EvaluateJudgeCommandTest {

  @Test
  void printsTheTableAndEndsWithTheJudgeLine(@TempDir Path dir) throws Exception {
    String qs =
        String.join(
            ",",
            JudgeEvaluationTest.q("Where?", "Otrar", "the town of otrar", true, "Bukhara", false),
            JudgeEvaluationTest.q(
                "Who?", "Subutai and Jebe", "Subutai and Jebe did", true, "", false));
    Path f = dir.resolve("run.json");
    Files.writeString(
        f,
        "{\"articles\":[{\"title\":\"T\",\"context\":\"C\",\"prompt\":\"P\",\"completions\":[{\"text\":\"E\","
            + "\"stats\":{\"adapter_mean\":0.0,\"baseline_mean\":1.0},\"questions\":["
            + qs
            + "]}]}]}");
    CliRun r =
        CliRun.of(
            "evaluate-judge",
            "--seal-run",
            f.toString(),
            "--run-dir",
            dir.resolve("run").toString());
    assertEquals(0, r.exitCode(), r.toString());
    Matcher m = JudgeEvaluationTest.lastLine(r.out());
    assertEquals("normalized-contains", m.group(1), r.out());
    assertEquals("4", m.group(4));
    assertTrue(r.out().contains("token-recall"), "every local judge has a row: " + r.out());
    assertFalse(
        Files.exists(dir.resolve("run")),
        "no Spark, no run directory: evaluate-judge only reads the file");
  }

  @Test
  void configuredThresholdReachesTheJudges(@TempDir Path dir) throws Exception {
    Path f = SharedData.require("data/seal/rank_iter0.json");
    CliRun r =
        CliRun.of("evaluate-judge", "--seal-run", f.toString(), "--set", "judge.f1-threshold=0.5");
    assertEquals(0, r.exitCode(), r.toString());
    assertTrue(r.out().lines().anyMatch(l -> l.startsWith("f1 ") && l.contains("0.5000")), r.out());
    JudgeEvaluationTest.lastLine(r.out());
  }

  @Test
  void aHadoopFileUriReadsTheSameRunAsItsPath(@TempDir Path dir) throws Exception {
    Path f = dir.resolve("run.json");
    Files.writeString(
        f,
        "{\"articles\":[{\"title\":\"T\",\"context\":\"C\",\"prompt\":\"P\",\"completions\":[{\"text\":\"E\","
            + "\"stats\":{\"adapter_mean\":0.0,\"baseline_mean\":1.0},\"questions\":["
            + JudgeEvaluationTest.q("Where?", "Otrar", "the town of otrar", true, "Bukhara", false)
            + "]}]}]}");
    CliRun byPath = CliRun.of("evaluate-judge", "--seal-run", f.toString());
    CliRun byUri = CliRun.of("evaluate-judge", "--seal-run", f.toUri().toString());
    assertEquals(0, byUri.exitCode(), byUri.toString());
    assertTrue(f.toUri().toString().startsWith("file:/"));
    assertEquals(
        JudgeEvaluationTest.lastLine(byPath.out()).group(0),
        JudgeEvaluationTest.lastLine(byUri.out()).group(0));
    CliRun missing =
        CliRun.of("evaluate-judge", "--seal-run", dir.resolve("absent.json").toUri().toString());
    assertEquals(2, missing.exitCode(), missing.toString());
  }

  @Test
  void missingFileExitsTwo(@TempDir Path dir) {
    CliRun r = CliRun.of("evaluate-judge", "--seal-run", dir.resolve("absent.json").toString());
    assertEquals(2, r.exitCode(), r.toString());
    assertTrue(r.err().contains("absent.json does not exist"), r.err());
  }
}
