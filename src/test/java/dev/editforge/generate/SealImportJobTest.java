package dev.editforge.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.editforge.CliRun;
import dev.editforge.SharedData;
import dev.editforge.TestSpark;
import dev.editforge.io.Manifest;
import dev.editforge.text.Json;
import dev.editforge.text.SelfEditPrompts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code editforge generate --import-seal} through the CLI. */
class SealImportJobTest {
  @TempDir Path dir;

  static Manifest manifest(Path run, String table) throws Exception {
    return Manifest.parse(Files.readString(run.resolve(table).resolve("_manifest.json")));
  }

  static List<Row> rows(Path run, String table, String... order) {
    return TestSpark.session()
        .read()
        .parquet(run.resolve(table).toString())
        .orderBy(order[0], java.util.Arrays.copyOfRange(order, 1, order.length))
        .collectAsList();
  }

  static String article(String title, String context, String prompt, String... completions) {
    StringBuilder cs = new StringBuilder();
    for (String c : completions) {
      cs.append(cs.length() == 0 ? "" : ",").append(Json.compact(c));
    }
    return "{\"title\":"
        + Json.compact(title)
        + ",\"context\":"
        + Json.compact(context)
        + ",\"questions\":[{\"question\":\"Q1?\",\"answer\":\"A1\"},{\"question\":\"Q2?\",\"answer\":\"A2\"}],"
        + "\"completions\":["
        + cs
        + "],\"prompt\":"
        + Json.compact(prompt)
        + "}";
  }

  @Test
  void smallFileBecomesArticlesAndSelfEditsWithStableIdsAndIngestsArticleIds() throws Exception {
    String sealPrompt =
        SelfEditPrompts.builtIn().render("implications", "Veltmoor", "An island {with braces}.");
    Path f = dir.resolve("synthetic.json");
    Files.writeString(
        f,
        "["
            + String.join(
                ",",
                article(
                    "Veltmoor",
                    "An island {with braces}.",
                    sealPrompt,
                    "1. It is an island.",
                    "2. Braces",
                    ""),
                article("Other", "Another passage.", "My own prompt", "only one"),
                article("Veltmoor", "An island {with braces}.", sealPrompt, "a repeat", "b"))
            + "]");
    Path run = dir.resolve("run");
    CliRun r = CliRun.of("generate", "--import-seal", f.toString(), "--run-dir", run.toString());
    assertEquals(0, r.exitCode(), r.toString());

    List<Row> articles = rows(run, "articles", "title");
    assertEquals(2, articles.size());
    List<Row> edits = rows(run, "self_edits", "prompt_key", "sampling.sample_index");
    assertEquals(4, edits.size());
    Map<String, Long> byKey =
        edits.stream().collect(Collectors.groupingBy(e -> e.getString(2), Collectors.counting()));
    assertEquals(Map.of("implications", 3L, "imported", 1L), byKey);
    Row first =
        edits.stream().filter(e -> e.getString(2).equals("implications")).findFirst().orElseThrow();
    assertEquals(sealPrompt, first.getString(3));
    assertEquals("1. It is an island.", first.getString(4));
    assertEquals("imported", first.getString(5));
    Row sampling = first.getStruct(6);
    assertEquals(0, sampling.getInt(sampling.fieldIndex("sample_index")));
    assertEquals(1.0, sampling.getDouble(sampling.fieldIndex("temperature")));
    assertNull(first.get(7), "finish_reason");
    assertNull(first.get(8), "error");
    assertEquals(
        List.of(0, 1, 2),
        edits.stream()
            .filter(e -> e.getString(2).equals("implications"))
            .map(e -> e.getStruct(6).getInt(5))
            .toList());

    Manifest am = manifest(run, "articles");
    assertEquals(3, am.count("input"));
    assertEquals(2, am.count("accepted"));
    assertEquals(1, am.count("duplicates"));
    assertEquals(4, am.count("questions"));
    Manifest em = manifest(run, "self_edits");
    assertEquals(6, em.count("input"));
    assertEquals(4, em.count("accepted"));
    assertEquals(2, em.count("duplicates"));
    assertEquals(
        em.count("input"), em.count("accepted") + em.count("rejected") + em.count("duplicates"));

    // Same ids as ingest gives the same SEAL-shaped file, so imported edits join ingested articles.
    Path ingested = dir.resolve("ingested");
    CliRun in = CliRun.of("ingest", "--input", "squad:" + f, "--run-dir", ingested.toString());
    assertEquals(0, in.exitCode(), in.toString());
    assertEquals(ids(articles), ids(rows(ingested, "articles", "title")));

    // A rerun skips; a forced rerun rebuilds the same edit ids.
    List<String> editIds = edits.stream().map(e -> e.getString(0)).sorted().toList();
    CliRun again =
        CliRun.of("generate", "--import-seal", f.toString(), "--run-dir", run.toString());
    assertTrue(again.out().contains("self_edits skipped: up-to-date"), again.out());
    CliRun forced =
        CliRun.of(
            "generate", "--import-seal", f.toString(), "--run-dir", run.toString(), "--force");
    assertEquals(0, forced.exitCode(), forced.toString());
    assertEquals(
        editIds, rows(run, "self_edits", "edit_id").stream().map(e -> e.getString(0)).toList());
  }

  static List<String> ids(List<Row> articles) {
    return articles.stream()
        .map(
            a ->
                a.getString(0) + " " + a.<Row>getList(3).stream().map(q -> q.getString(0)).toList())
        .toList();
  }

  @Test
  void sealsBaseValGivesTwoHundredArticlesAndAThousandImplicationsEdits() throws Exception {
    Path f = SharedData.require("data/seal/base_val.json");
    Path run = dir.resolve("run");
    CliRun r = CliRun.of("generate", "--import-seal", f.toString(), "--run-dir", run.toString());
    assertEquals(0, r.exitCode(), r.toString());
    assertEquals(200, manifest(run, "articles").count("output"));
    Manifest em = manifest(run, "self_edits");
    assertEquals(1000, em.count("output"));
    JsonNode keys = Json.MAPPER.readTree(em.toJson()).get("prompt_keys");
    assertEquals(
        1000,
        keys.get("implications").asLong(),
        "every SEAL prompt is the implications rendering: " + keys);
    assertEquals(
        1000,
        TestSpark.session()
            .read()
            .parquet(run.resolve("self_edits").toString())
            .select("edit_id")
            .distinct()
            .count());
  }

  @Test
  void badFilesAndNoFlagExitTwo() throws Exception {
    Path run = dir.resolve("run");
    Path f = dir.resolve("bad.json");
    Files.writeString(
        f, "[{\"title\": \"T\", \"context\": \"C\", \"questions\": [], \"prompt\": \"P\"}]");
    CliRun bad = CliRun.of("generate", "--import-seal", f.toString(), "--run-dir", run.toString());
    assertEquals(2, bad.exitCode(), bad.toString());
    assertTrue(bad.err().contains("[0]: \"completions\" missing"), bad.err());
    CliRun missing =
        CliRun.of(
            "generate",
            "--import-seal",
            dir.resolve("absent.json").toString(),
            "--run-dir",
            run.toString());
    assertEquals(2, missing.exitCode(), missing.toString());
    CliRun none = CliRun.of("generate", "--run-dir", run.toString());
    assertEquals(2, none.exitCode(), none.toString());
    assertTrue(!Files.exists(run.resolve("self_edits")));
  }
}
