package dev.editforge.select;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.editforge.CliRun;
import dev.editforge.TestSpark;
import dev.editforge.io.Manifest;
import dev.editforge.io.SftRow;
import dev.editforge.io.SftSource;
import dev.editforge.io.SftTable;
import dev.editforge.llm.ChatMessage;
import dev.editforge.text.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code editforge export --table sft --format jsonl|alpaca|messages}: what trainers load. */
class SftExportCommandTest {
  @TempDir Path dir;
  Path run;

  static final List<SftRow> ROWS =
      List.of(
          SftRow.exchange(
              "Passage: ü \"quoted\"", "Implications:\n1. x", SftSource.SELF_EDIT, "e1", 0.5),
          new SftRow(
              "u2",
              "a2",
              List.of(
                  ChatMessage.system("be brief"),
                  ChatMessage.user("u1"),
                  ChatMessage.assistant("a1"),
                  ChatMessage.user("u2"),
                  ChatMessage.assistant("a2")),
              SftSource.INSTRUCTION,
              "i1",
              null));

  @BeforeEach
  void writeSftTable() throws Exception {
    run = dir.resolve("run");
    Path table = run.resolve("sft");
    SftTable.write(TestSpark.session(), ROWS, new org.apache.hadoop.fs.Path(table.toUri()));
    Files.writeString(
        table.resolve("_manifest.json"),
        Manifest.start("select", "sft", "c", "v", "f")
            .count("output", 2)
            .finish(Manifest.COMPLETED)
            .toJson());
  }

  CliRun export(String format, Path out) {
    return CliRun.of(
        "export",
        "--table",
        "sft",
        "--format",
        format,
        "--out",
        out.toString(),
        "--run-dir",
        run.toString());
  }

  @Test
  void jsonlHasTrlsPromptAndCompletionColumnsThenProvenance() throws Exception {
    Path out = dir.resolve("out");
    CliRun r = export("jsonl", out);
    assertEquals(0, r.exitCode(), r.toString());
    List<String> lines = Files.readAllLines(out.resolve("sft.jsonl"));
    assertEquals(2, lines.size());
    for (int i = 0; i < lines.size(); i++) {
      JsonNode n = Json.MAPPER.readTree(lines.get(i));
      List<String> names = new ArrayList<>();
      n.fieldNames().forEachRemaining(names::add);
      assertEquals(List.of("prompt", "completion", "source", "origin_id", "score"), names);
      assertEquals(ROWS.get(i).prompt(), n.get("prompt").asText());
      assertEquals(ROWS.get(i).completion(), n.get("completion").asText());
      assertEquals(ROWS.get(i).originId(), n.get("origin_id").asText());
    }
    assertEquals(0.5, Json.MAPPER.readTree(lines.get(0)).get("score").asDouble());
    assertTrue(Json.MAPPER.readTree(lines.get(1)).get("score").isNull());
    assertTrue(
        lines.get(0).contains("ü"), "ensure_ascii=False, as SEAL writes it: " + lines.get(0));
  }

  @Test
  void alpacaWritesTheArrayAndADatasetInfoEntryKeepingOtherEntries() throws Exception {
    Path out = dir.resolve("out");
    Files.createDirectories(out);
    Files.writeString(
        out.resolve("dataset_info.json"), "{\"other\": {\"file_name\": \"other.json\"}}");
    CliRun r = export("alpaca", out);
    assertEquals(0, r.exitCode(), r.toString());
    JsonNode data = Json.MAPPER.readTree(out.resolve("sft_alpaca.json").toFile());
    assertEquals(2, data.size());
    assertEquals(ROWS.get(0).prompt(), data.get(0).get("instruction").asText());
    assertEquals("", data.get(0).get("input").asText());
    assertEquals(ROWS.get(0).completion(), data.get(0).get("output").asText());
    assertEquals("be brief", data.get(1).get("system").asText());
    assertEquals("u1", data.get(1).get("history").get(0).get(0).asText());
    assertEquals("a1", data.get(1).get("history").get(0).get(1).asText());
    JsonNode info = Json.MAPPER.readTree(out.resolve("dataset_info.json").toFile());
    JsonNode entry = info.get("sft");
    assertEquals("sft_alpaca.json", entry.get("file_name").asText());
    assertEquals("alpaca", entry.get("formatting").asText());
    assertEquals("instruction", entry.get("columns").get("prompt").asText());
    assertEquals("input", entry.get("columns").get("query").asText());
    assertEquals("output", entry.get("columns").get("response").asText());
    assertEquals("system", entry.get("columns").get("system").asText());
    assertEquals("history", entry.get("columns").get("history").asText());
    assertEquals(
        "other.json",
        info.get("other").get("file_name").asText(),
        "other datasets stay registered");
  }

  @Test
  void messagesAreWholeConversationsAndOtherFormatsAreRefused() throws Exception {
    Path out = dir.resolve("out");
    CliRun r = export("messages", out);
    assertEquals(0, r.exitCode(), r.toString());
    List<String> lines = Files.readAllLines(out.resolve("sft_messages.jsonl"));
    JsonNode second = Json.MAPPER.readTree(lines.get(1)).get("messages");
    assertEquals(5, second.size());
    List<String> roles = new ArrayList<>();
    for (Iterator<JsonNode> it = second.elements(); it.hasNext(); ) {
      roles.add(it.next().get("role").asText());
    }
    assertEquals(List.of("system", "user", "assistant", "user", "assistant"), roles);

    JsonNode info = Json.MAPPER.readTree(out.resolve("dataset_info.json").toFile());
    assertEquals("sharegpt", info.get("sft_messages").get("formatting").asText());
    assertEquals("sft_messages.jsonl", info.get("sft_messages").get("file_name").asText());

    CliRun bad = export("parquet", out);
    assertEquals(2, bad.exitCode(), bad.toString());
    assertTrue(bad.out().contains("formats: jsonl, alpaca, messages"), bad.out());
    CliRun notSft =
        CliRun.of(
            "export",
            "--table",
            "articles",
            "--format",
            "alpaca",
            "--out",
            out.toString(),
            "--run-dir",
            run.toString());
    assertEquals(2, notSft.exitCode(), notSft.toString());
    assertTrue(notSft.out().contains("formats: jsonl"), notSft.out());
  }
}
