package dev.editforge.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.CliRun;
import dev.editforge.SharedData;
import dev.editforge.io.Manifest;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Ingest of the real reference files in ../shared (skipped when absent). */
class SharedIngestTest {
  @TempDir Path dir;

  private static Manifest manifest(Path run, String table) throws Exception {
    return Manifest.parse(Files.readString(run.resolve(table).resolve("_manifest.json")));
  }

  @Test
  void squadDevInSealShape() throws Exception {
    Path squad = SharedData.require("data/seal/squad_val.json");
    CliRun r = CliRun.of("ingest", "--input", "squad:" + squad, "--run-dir", dir.toString());
    assertEquals(0, r.exitCode(), r.toString());
    Manifest m = manifest(dir, "articles");
    assertEquals(2067, m.count("output"));
    assertEquals(10570, m.count("questions"));
    assertEquals(0, m.count("rejected"));
    CliRun again = CliRun.of("ingest", "--input", "squad:" + squad, "--run-dir", dir.toString());
    assertTrue(again.out().contains("articles skipped: up-to-date"), again.out());
  }

  @Test
  void dprSampleAndNestedSquadV2() throws Exception {
    Path dpr = SharedData.require("data/dpr/psgs_w100_sample.tsv");
    Path v2 = SharedData.require("data/squad/squad_v2_small.json");
    CliRun r =
        CliRun.of(
            "ingest",
            "--input",
            "dpr:" + dpr,
            "--input",
            "squad:" + v2,
            "--run-dir",
            dir.toString());
    assertEquals(0, r.exitCode(), r.toString());
    assertEquals(751, manifest(dir, "passages").count("output"));
    Manifest v2m = manifest(dir, "articles");
    assertEquals(
        626,
        v2m.count("questions") + v2m.count("impossible_questions"),
        "every question of the file is either kept or counted as unanswerable");
    assertTrue(v2m.count("impossible_questions") > 0);
  }
}
