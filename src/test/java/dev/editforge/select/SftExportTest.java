package dev.editforge.select;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.typesafe.config.ConfigFactory;
import dev.editforge.SharedData;
import dev.editforge.config.ConfigReader;
import dev.editforge.config.SelectSettings;
import dev.editforge.io.SftRow;
import dev.editforge.io.SftSource;
import dev.editforge.llm.ChatMessage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SftExportTest {
  static final ObjectMapper JSON = new ObjectMapper();

  static List<SftRow> sample() {
    return List.of(
        SftRow.exchange("Passage:\nT\n\"quoted\"\n", "1. é\n2. 詞", SftSource.SELF_EDIT, "e1", 0.4),
        InstructionData.fromMessages(
            List.of(
                ChatMessage.system("Be brief."),
                ChatMessage.user("u1"),
                ChatMessage.assistant("a1"),
                ChatMessage.user("u2"),
                ChatMessage.assistant("a2"))));
  }

  @Test
  void writesEveryFormat(@TempDir Path dir) throws Exception {
    Files.writeString(
        dir.resolve("dataset_info.json"), "{\"other\": {\"file_name\": \"other.json\"}}");
    SftExport.Settings settings =
        SftExport.Settings.from(
            new ConfigReader(
                ConfigFactory.parseString(
                    "formats = [jsonl, alpaca, messages], name = mydata, extra-fields = true"),
                "editforge.select.export"));
    List<Path> files = SftExport.write(sample(), dir, settings);
    assertEquals(
        List.of(
            dir.resolve("mydata.jsonl"),
            dir.resolve("mydata_alpaca.json"),
            dir.resolve("mydata_messages.jsonl"),
            dir.resolve("dataset_info.json")),
        files);

    List<String> jsonl = Files.readAllLines(dir.resolve("mydata.jsonl"));
    assertEquals(2, jsonl.size());
    JsonNode first = JSON.readTree(jsonl.get(0));
    assertEquals(
        List.of("prompt", "completion", "source", "origin_id", "score"),
        List.copyOf(iterable(first)));
    assertEquals("self_edit", first.get("source").asText());
    assertEquals("e1", first.get("origin_id").asText());
    assertEquals(0.4, first.get("score").asDouble());
    assertTrue(JSON.readTree(jsonl.get(1)).get("score").isNull(), "unscored rows say null");
    assertEquals("Passage:\nT\n\"quoted\"\n", first.get("prompt").asText());
    assertEquals("1. é\n2. 詞", first.get("completion").asText());
    assertTrue(
        jsonl
            .get(0)
            .startsWith("{\"prompt\": \"Passage:\\nT\\n\\\"quoted\\\"\\n\", \"completion\": "),
        jsonl.get(0));
    assertEquals("u2", JSON.readTree(jsonl.get(1)).get("prompt").asText());

    JsonNode alpaca = JSON.readTree(dir.resolve("mydata_alpaca.json").toFile());
    assertEquals(2, alpaca.size());
    assertEquals("Passage:\nT\n\"quoted\"\n", alpaca.get(0).get("instruction").asText());
    assertEquals("", alpaca.get(0).get("input").asText());
    assertEquals("1. é\n2. 詞", alpaca.get(0).get("output").asText());
    assertFalse(alpaca.get(0).has("history"));
    assertEquals("u2", alpaca.get(1).get("instruction").asText());
    assertEquals("a2", alpaca.get(1).get("output").asText());
    assertEquals("Be brief.", alpaca.get(1).get("system").asText());
    assertEquals("[[\"u1\",\"a1\"]]", alpaca.get(1).get("history").toString());

    JsonNode info = JSON.readTree(dir.resolve("dataset_info.json").toFile());
    assertEquals(
        "other.json", info.get("other").get("file_name").asText(), "existing entries are kept");
    JsonNode entry = info.get("mydata");
    assertEquals("mydata_alpaca.json", entry.get("file_name").asText());
    assertEquals("instruction", entry.get("columns").get("prompt").asText());
    assertEquals("input", entry.get("columns").get("query").asText());
    assertEquals("output", entry.get("columns").get("response").asText());
    assertEquals("system", entry.get("columns").get("system").asText());
    assertEquals("history", entry.get("columns").get("history").asText());

    List<String> messages = Files.readAllLines(dir.resolve("mydata_messages.jsonl"));
    JsonNode m0 = JSON.readTree(messages.get(0)).get("messages");
    assertEquals(2, m0.size());
    assertEquals("user", m0.get(0).get("role").asText());
    assertEquals("Passage:\nT\n\"quoted\"\n", m0.get(0).get("content").asText());
    assertEquals("assistant", m0.get(1).get("role").asText());
    assertEquals("self_edit", JSON.readTree(messages.get(0)).get("source").asText());
    JsonNode m1 = JSON.readTree(messages.get(1)).get("messages");
    assertEquals(5, m1.size());
    assertEquals("system", m1.get(0).get("role").asText());
    JsonNode sharegpt = info.get("mydata_messages");
    assertEquals("mydata_messages.jsonl", sharegpt.get("file_name").asText());
    assertEquals("sharegpt", sharegpt.get("formatting").asText());
    assertEquals("messages", sharegpt.get("columns").get("messages").asText());
    assertEquals(
        "{\"role_tag\":\"role\",\"content_tag\":\"content\",\"user_tag\":\"user\","
            + "\"assistant_tag\":\"assistant\",\"system_tag\":\"system\"}",
        sharegpt.get("tags").toString());
    try (var listing = Files.list(dir)) {
      assertTrue(listing.noneMatch(p -> p.toString().endsWith(".tmp")));
    }
  }

  @Test
  void jsonlOfTheGoldenSelectionIsSealsFileByteForByte(@TempDir Path dir) throws Exception {
    Path golden = SharedData.require("data/seal/sft_best1of5_iter0.jsonl");
    var rows =
        new BestKSelector(SelectSettings.seal())
            .select(SealRunImport.read(SharedData.require("data/seal/rank_iter0.json")))
            .rows();
    SftExport.write(
        rows, dir, new SftExport.Settings(List.of(SftExport.Format.JSONL), "sft", false));
    assertArrayEquals(Files.readAllBytes(golden), Files.readAllBytes(dir.resolve("sft.jsonl")));

    // with the extra fields each line is SEAL's line with provenance appended
    SftExport.write(rows, dir, new SftExport.Settings(List.of(SftExport.Format.JSONL), "sft"));
    List<String> sealLines = Files.readAllLines(golden);
    List<String> ours = Files.readAllLines(dir.resolve("sft.jsonl"));
    assertEquals(sealLines.size(), ours.size());
    for (int i = 0; i < ours.size(); i++) {
      String seal = sealLines.get(i);
      assertTrue(
          ours.get(i)
              .startsWith(seal.substring(0, seal.length() - 1) + ", \"source\": \"self_edit\""),
          ours.get(i));
    }
  }

  private static List<String> iterable(JsonNode n) {
    List<String> names = new java.util.ArrayList<>();
    n.fieldNames().forEachRemaining(names::add);
    return names;
  }
}
