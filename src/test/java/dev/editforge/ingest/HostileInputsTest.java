package dev.editforge.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTimeoutPreemptively;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.editforge.CliRun;
import dev.editforge.io.Manifest;
import dev.editforge.text.Json;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import java.util.zip.GZIPOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 17 (items 8, 9, 11) through the CLI: hostile SQuAD records are quarantined alone, nothing
 * an input holds reaches the terminal raw, and a FIFO is refused instead of hanging.
 */
class HostileInputsTest {
  private static final char ESC = '\u001b';

  @TempDir Path dir;

  static Manifest manifest(Path run, String table) throws IOException {
    return Manifest.parse(Files.readString(run.resolve(table).resolve("_manifest.json")));
  }

  static List<JsonNode> rejects(Path run, String table) throws IOException {
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

  private static String article(String title, String context) {
    return "{\"title\": \""
        + title
        + "\", \"context\": \""
        + context
        + "\", \"questions\": [{\"question\": \"q\", \"answer\": \"a\"}]}";
  }

  @Test
  void aHostileSquadFileIsIngestedAroundItsBadRecords() throws Exception {
    String doc =
        "\uFEFF[\n"
            + article("Good 0", "c0")
            + ",\n{\"title\": \"Deep\", \"x\": "
            + "[".repeat(1001)
            + "]".repeat(1001)
            + "},\n"
            + article("Long", "y".repeat(3000))
            + ",\n{\"title\": \"Broken\",, \"context\": 1},\n"
            + article("Good 4", "c4")
            + "\n]\n";
    Path file = Files.writeString(dir.resolve("hostile.json"), doc);
    Path run = dir.resolve("run");
    CliRun r =
        CliRun.of(
            "ingest",
            "--input",
            "squad:" + file,
            "--run-dir",
            run.toString(),
            "--set",
            "ingest.max-string-chars=1000",
            "--set",
            "ingest.max-rejected-fraction=0.9");
    assertEquals(0, r.exitCode(), r.toString());
    Manifest m = manifest(run, "articles");
    assertEquals(5, m.count("input"));
    assertEquals(2, m.count("accepted"));
    assertEquals(3, m.count("rejected"));
    assertEquals(
        m.count("input"), m.count("accepted") + m.count("rejected") + m.count("duplicates"));
    List<String> reasons =
        rejects(run, "articles").stream()
            .sorted((a, b) -> Long.compare(a.get("line").asLong(), b.get("line").asLong()))
            .map(j -> j.get("line").asLong() + " " + j.get("reason").asText())
            .toList();
    assertEquals(3, reasons.size(), reasons.toString());
    assertTrue(reasons.get(0).startsWith("3 article 1: record nests"), reasons.toString());
    assertTrue(reasons.get(1).startsWith("4 article 2: record holds a string"), reasons.toString());
    assertTrue(
        reasons.get(2).startsWith("5 article 3: malformed JSON at line 5"), reasons.toString());
  }

  @Test
  void noControlCharacterFromAnInputReachesTheTerminalOrTheRejects() throws Exception {
    String hostile = ESC + "]0;owned" + '\u0007' + ESC + "[2J";
    Path notDpr = Files.writeString(dir.resolve("x.tsv"), "a" + hostile + "\tb\tc\n1\t2\t3\n");
    Path run = dir.resolve("run");
    CliRun header = CliRun.of("ingest", "--input", "dpr:" + notDpr, "--run-dir", run.toString());
    assertEquals(2, header.exitCode(), header.toString());
    assertTrue(header.err().contains("found \"a\\u001b]0;owned\\u0007\\u001b[2J"), header.err());

    Path lines = dir.resolve("p.jsonl");
    Files.writeString(
        lines,
        "{\"id\": 1, \"title\": \"T\", \"text\": \"fine\"}\n"
            + "{\"id\": 1, \"title\": \"T\", \"text\": \"other\\u001b[2J\"}\n"
            + "{\"id\": \""
            + hostile
            + "\", \"title\": \"T\"}\n"
            + "{\"id\": 3, \"title\": \"T\", \"text\": \"ok\"}\n"
            + "not json "
            + hostile
            + "\n");
    Path cut = Files.writeString(dir.resolve("cut.json"), "[{\"title\": \"" + hostile);
    CliRun r =
        CliRun.of(
            "ingest",
            "--input",
            "passages-jsonl:" + lines,
            "--run-dir",
            run.toString(),
            "--set",
            "ingest.max-rejected-fraction=0.9");
    assertEquals(0, r.exitCode(), r.toString());
    List<JsonNode> rejects = rejects(run, "passages");
    assertEquals(3, rejects.size(), rejects.toString());
    for (JsonNode j : rejects) {
      for (String field : List.of("reason", "record")) {
        assertTrue(j.get(field).asText().indexOf(ESC) < 0, field + ": " + j);
      }
    }
    assertTrue(
        rejects.stream().anyMatch(j -> j.get("record").asText().contains("\\u001b[2J")),
        "the bytes stay visible, escaped: " + rejects);

    CliRun truncated = CliRun.of("ingest", "--input", "squad:" + cut, "--run-dir", run.toString());
    assertEquals(2, truncated.exitCode(), truncated.toString());
    for (CliRun c : List.of(header, r, truncated)) {
      assertTrue(c.out().indexOf(ESC) < 0 && c.err().indexOf(ESC) < 0, c.toString());
    }
  }

  @Test
  void aFifoGivenAsInputExitsTwoNamingIt() throws Exception {
    Path fifo = dir.resolve("articles.json");
    boolean made;
    try {
      made = new ProcessBuilder("mkfifo", fifo.toString()).start().waitFor() == 0;
    } catch (IOException e) {
      made = false;
    }
    assumeTrue(made, "needs mkfifo (POSIX)");
    Path run = dir.resolve("run");
    CliRun r =
        assertTimeoutPreemptively(
            Duration.ofSeconds(120),
            () -> CliRun.of("ingest", "--input", "squad:" + fifo, "--run-dir", run.toString()));
    assertEquals(2, r.exitCode(), r.toString());
    assertTrue(r.err().contains(fifo + " is a FIFO"), r.err());
    assertFalse(Files.exists(run.resolve("articles")));
  }

  @Test
  void aGzippedLineFileRejectsWithUncompressedLineNumbers() throws Exception {
    Path gz = dir.resolve("passages.jsonl.gz");
    try (OutputStream out = new GZIPOutputStream(Files.newOutputStream(gz))) {
      StringBuilder sb = new StringBuilder();
      for (int i = 1; i <= 9; i++) {
        sb.append(
            i == 5
                ? "{\"id\": 5, \"title\": \"T\"}\n"
                : "{\"id\": " + i + ", \"title\": \"T\", \"text\": \"text " + i + "\"}\n");
      }
      out.write(sb.toString().getBytes(StandardCharsets.UTF_8));
    }
    Path run = dir.resolve("run");
    CliRun r =
        CliRun.of(
            "ingest",
            "--input",
            "passages-jsonl:" + gz,
            "--run-dir",
            run.toString(),
            "--set",
            "ingest.max-rejected-fraction=0.5");
    assertEquals(0, r.exitCode(), r.toString());
    assertEquals(8, manifest(run, "passages").count("accepted"));
    List<JsonNode> rejects = rejects(run, "passages");
    assertEquals(1, rejects.size());
    assertEquals(5, rejects.get(0).get("line").asLong());
    assertTrue(rejects.get(0).get("reason").asText().contains("text"), rejects.toString());
  }
}
