package dev.editforge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.editforge.CliRun;
import dev.editforge.DemoRun;
import dev.editforge.text.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The end-to-end run: the demo through the CLI on the bundled sample, then a rerun that skips. */
class DemoEndToEndIT {
  @TempDir Path dir;

  @Test
  void demoRunsEveryStageAndARerunSkips() throws Exception {
    Path run = DemoRun.dir();
    CliRun first = DemoRun.result();
    assertEquals(0, first.exitCode(), first.toString());
    assertTrue(first.out().contains("demo: wrote to"), first.out());
    for (String table :
        List.of(
            "articles",
            "passages",
            "problems",
            "instructions",
            "embeddings",
            "index",
            "retrievals")) {
      assertTrue(
          Files.exists(run.resolve(table).resolve("_manifest.json")),
          table + " missing: " + first.out());
    }
    JsonNode articles =
        Json.MAPPER.readTree(run.resolve("articles").resolve("_manifest.json").toFile());
    assertTrue(
        articles.path("counts").path("output").asLong() >= 12,
        "the sample has at least 12 articles");
    assertTrue(articles.path("counts").path("questions").asLong() >= 48, "4+ questions each");

    CliRun second = CliRun.of("demo", "--run-dir", run.toString());
    assertEquals(0, second.exitCode(), second.toString());
    assertTrue(second.out().contains("articles skipped: up-to-date"), second.out());
    for (String table : List.of("embeddings", "index", "retrievals")) {
      assertTrue(
          second.out().contains(table + " skipped: up-to-date"), table + ": " + second.out());
    }

    try (Stream<Path> runs = Files.list(run.resolve("_runs"))) {
      // Other ITs read the shared demo run and may leave records of their own (an export), so
      // count the demo's.
      List<Path> records =
          runs.filter(p -> p.getFileName().toString().endsWith("-demo.json")).sorted().toList();
      assertEquals(2, records.size(), "one run record per demo invocation");
      JsonNode rec = Json.MAPPER.readTree(records.get(0).toFile());
      assertEquals("demo", rec.get("command").asText());
      assertTrue(
          rec.path("config").has("editforge.ingest.max-rejected-fraction"),
          "the resolved config is recorded");
    }

    Path out = dir.resolve("export");
    CliRun export =
        CliRun.of(
            "export",
            "--table",
            "passages",
            "--format",
            "jsonl",
            "--out",
            out.toString(),
            "--run-dir",
            run.toString());
    assertEquals(0, export.exitCode(), export.toString());
    List<String> lines = Files.readAllLines(out.resolve("passages.jsonl"));
    assertTrue(lines.size() >= 150, "the sample has at least 150 passages");
    JsonNode first1 = Json.MAPPER.readTree(lines.get(0));
    assertTrue(first1.has("passage_id") && first1.has("title") && first1.has("text"), lines.get(0));
  }
}
