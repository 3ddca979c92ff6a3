package dev.editforge.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.editforge.CliRun;
import dev.editforge.TestSpark;
import dev.editforge.io.Manifest;
import dev.editforge.text.Json;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Stage tests of ingest on the shared local[2] SparkSession, driven through the CLI. */
class IngestJobTest {
  @TempDir Path dir;

  private Manifest manifest(Path run, String table) throws IOException {
    return Manifest.parse(Files.readString(run.resolve(table).resolve("_manifest.json")));
  }

  private List<JsonNode> rejects(Path run, String table) throws IOException {
    List<JsonNode> out = new ArrayList<>();
    try (Stream<Path> files = Files.list(run.resolve(table).resolve("_rejects"))) {
      for (Path f : files.filter(p -> p.getFileName().toString().endsWith(".json")).toList()) {
        for (String line : Files.readAllLines(f)) {
          out.add(Json.MAPPER.readTree(line));
        }
      }
    }
    return out;
  }

  @Test
  void mixedGoodAndBadPassagesAreQuarantinedWithLineNumbersAndCountsAddUp() throws Exception {
    StringBuilder tsv = new StringBuilder("id\ttext\ttitle\n");
    for (int i = 1; i <= 60; i++) {
      tsv.append(i)
          .append("\tPassage number ")
          .append(i)
          .append(" about Veltmoor.\tVeltmoor ")
          .append(i % 7)
          .append('\n');
    }
    tsv.append(
        "5\tPassage number 5 about Veltmoor.\tVeltmoor 5\n"); // line 62: exact duplicate of id 5
    tsv.append("6\tA different text under id 6.\tVeltmoor\n"); // line 63: id conflict
    tsv.append("61\tonly two fields\n"); // line 64: malformed
    tsv.append("\n"); // line 65: blank, not a record
    tsv.append("62\t\tNo text\n"); // line 66: empty field
    Path file = dir.resolve("p.tsv");
    Files.writeString(file, tsv);
    Path run = dir.resolve("run");

    CliRun r =
        CliRun.of(
            "ingest",
            "--input",
            "dpr:" + file,
            "--run-dir",
            run.toString(),
            "--set",
            "ingest.min-partitions=4",
            "--set",
            "ingest.max-rejected-fraction=0.5");
    assertEquals(0, r.exitCode(), r.toString());
    Manifest m = manifest(run, "passages");
    assertEquals(Manifest.COMPLETED, m.status());
    assertEquals(64, m.count("input"));
    assertEquals(60, m.count("accepted"));
    assertEquals(3, m.count("rejected"));
    assertEquals(1, m.count("duplicates"));
    assertEquals(
        m.count("input"), m.count("accepted") + m.count("rejected") + m.count("duplicates"));

    List<JsonNode> rejects = rejects(run, "passages");
    assertEquals(
        List.of(63L, 64L, 66L),
        rejects.stream().map(j -> j.get("line").asLong()).sorted().toList(),
        "line numbers are global even though the file was read in 4 splits");
    assertTrue(
        rejects.stream()
            .anyMatch(j -> j.get("reason").asText().contains("repeated with different content")));
    assertTrue(rejects.stream().allMatch(j -> j.get("source_file").asText().endsWith("p.tsv")));

    List<Row> rows =
        TestSpark.session().read().parquet(run.resolve("passages").toString()).collectAsList();
    assertEquals(60, rows.size());
    assertEquals(
        60, rows.stream().map(x -> x.getString(0)).distinct().count(), "passage ids are unique");
    assertTrue(r.out().contains("passages completed: 60 rows"), r.out());

    CliRun again =
        CliRun.of(
            "ingest",
            "--input",
            "dpr:" + file,
            "--run-dir",
            run.toString(),
            "--set",
            "ingest.min-partitions=4",
            "--set",
            "ingest.max-rejected-fraction=0.5");
    assertEquals(0, again.exitCode(), again.toString());
    assertTrue(again.out().contains("passages skipped: up-to-date"), again.out());
    assertEquals(Manifest.SKIPPED, manifest(run, "passages").status());

    CliRun forced =
        CliRun.of(
            "ingest",
            "--input",
            "dpr:" + file,
            "--run-dir",
            run.toString(),
            "--force",
            "--set",
            "ingest.min-partitions=4",
            "--set",
            "ingest.max-rejected-fraction=0.5");
    assertTrue(forced.out().contains("passages completed"), forced.out());

    CliRun changedConfig =
        CliRun.of(
            "ingest",
            "--input",
            "dpr:" + file,
            "--run-dir",
            run.toString(),
            "--set",
            "ingest.max-rejected-fraction=0.6");
    assertTrue(
        changedConfig.out().contains("passages completed"),
        "a config change invalidates: " + changedConfig.out());
  }

  @Test
  void tooManyRejectsExitsThreeButWritesRejectsAndAFailedManifest() throws Exception {
    Path file = dir.resolve("logic.jsonl");
    Files.writeString(
        file,
        String.join(
                "\n",
                "{\"id\": \"L1\", \"problem\": \"p\", \"questions\": [{\"question\": \"q\", \"options\": [\"a\", \"b\"], \"answer\": \"A\"}]}",
                "{\"id\": \"L2\", \"problem\": \"p\"",
                "{\"id\": \"L3\", \"problem\": \"\", \"questions\": []}",
                "{\"id\": \"L4\", \"problem\": 4, \"questions\": []}")
            + "\n");
    Path run = dir.resolve("run");
    CliRun r = CliRun.of("ingest", "--input", "logic:" + file, "--run-dir", run.toString());
    assertEquals(3, r.exitCode(), r.toString());
    assertTrue(r.out().contains("3 of 4 records rejected"), r.out());
    Manifest m = manifest(run, "problems");
    assertEquals(Manifest.FAILED, m.status());
    assertEquals(3, rejects(run, "problems").size());
    CliRun export =
        CliRun.of(
            "export",
            "--table",
            "problems",
            "--out",
            dir.resolve("x").toString(),
            "--run-dir",
            run.toString());
    assertEquals(1, export.exitCode(), "a failed table is not readable by later stages: " + export);
    assertTrue(export.err().contains("not complete"), export.err());
  }

  @Test
  void wholeFileProblemsExitTwoAndLeaveNoTable() throws Exception {
    Path run = dir.resolve("run");
    CliRun missing =
        CliRun.of(
            "ingest",
            "--input",
            "squad:" + dir.resolve("absent.json"),
            "--run-dir",
            run.toString());
    assertEquals(2, missing.exitCode(), missing.toString());
    assertTrue(missing.err().contains("does not exist"), missing.err());

    Path notDpr = Files.writeString(dir.resolve("x.tsv"), "a,b,c\n1,2,3\n");
    CliRun wrong = CliRun.of("ingest", "--input", "dpr:" + notDpr, "--run-dir", run.toString());
    assertEquals(2, wrong.exitCode(), wrong.toString());
    assertTrue(wrong.err().contains("not a DPR passages TSV"), wrong.err());

    Path brokenJson =
        Files.writeString(
            dir.resolve("b.json"), "[{\"title\": \"T\", \"context\": \"c\", \"questions\": [");
    CliRun broken =
        CliRun.of("ingest", "--input", "squad:" + brokenJson, "--run-dir", run.toString());
    assertEquals(2, broken.exitCode(), broken.toString());
    assertTrue(broken.err().contains("not valid JSON"), broken.err());
    assertFalse(Files.exists(run.resolve("articles")), "no partial table becomes visible");
    assertFalse(Files.exists(run.resolve("passages")));
  }

  @Test
  void invalidUtf8LineIsRejectedNotReplaced() throws Exception {
    Path file = dir.resolve("p.jsonl");
    byte[] good =
        "{\"id\": 1, \"title\": \"T\", \"text\": \"fine\"}\n".getBytes(StandardCharsets.UTF_8);
    byte[] bad =
        "{\"id\": 2, \"title\": \"T\", \"text\": \"bad \u0000\"}\n"
            .replace("\u0000", "__")
            .getBytes(StandardCharsets.UTF_8);
    int at = new String(bad, StandardCharsets.UTF_8).indexOf("__");
    bad[at] = (byte) 0xC3;
    bad[at + 1] = (byte) 0x28;
    byte[] all = new byte[good.length * 9 + bad.length];
    for (int i = 0; i < 9; i++) {
      System.arraycopy(good, 0, all, i * good.length, good.length);
    }
    System.arraycopy(bad, 0, all, good.length * 9, bad.length);
    Files.write(file, all);
    Path run = dir.resolve("run");
    CliRun r =
        CliRun.of(
            "ingest",
            "--input",
            "passages-jsonl:" + file,
            "--run-dir",
            run.toString(),
            "--set",
            "ingest.max-rejected-fraction=0.2");
    assertEquals(0, r.exitCode(), r.toString());
    Manifest m = manifest(run, "passages");
    assertEquals(1, m.count("accepted"), "nine identical lines: one kept");
    assertEquals(8, m.count("duplicates"));
    assertEquals(1, m.count("rejected"));
    JsonNode reject = rejects(run, "passages").get(0);
    assertEquals(10, reject.get("line").asLong());
    assertTrue(reject.get("reason").asText().contains("UTF-8"));
  }
}
