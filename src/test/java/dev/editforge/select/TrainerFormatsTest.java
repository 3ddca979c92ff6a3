package dev.editforge.select;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.editforge.CliRun;
import dev.editforge.TestSpark;
import dev.editforge.io.Manifest;
import dev.editforge.io.RunDir;
import dev.editforge.io.Tables;
import dev.editforge.text.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code select} with its defaults writes every export format, and each file loads the way its
 * trainer documents it:
 *
 * <ul>
 *   <li>TRL: one JSON object per line with the same columns in every line (Hugging Face {@code
 *       datasets} builds one schema); prompt-completion = string {@code prompt} and {@code
 *       completion}; conversational = {@code messages}, a list of {@code {role, content}} with
 *       roles system/user/assistant ending with the assistant;
 *   <li>LLaMA-Factory ({@code data/README.md}): every {@code dataset_info.json} entry names a
 *       {@code file_name} in the directory; {@code alpaca} records carry the mapped {@code
 *       prompt/query/response} columns (and {@code system}, {@code history} pairs); {@code
 *       sharegpt} records carry {@code columns.messages}, whose turns after an optional leading
 *       {@code system_tag} turn alternate {@code user_tag} / {@code assistant_tag}, an even number
 *       of them;
 *   <li>ms-swift: {@code {"messages": [{"role", "content"}, ...]}}, system optional and first, then
 *       user/assistant turns ending with the assistant.
 * </ul>
 */
class TrainerFormatsTest {
  @TempDir Path dir;

  @Test
  void selectWritesEveryFormatByDefaultAndEachLoadsAsItsTrainerDocumentsIt() throws Exception {
    Path run = dir.resolve("run");
    SelectJobTest.writeFixture(run);
    CliRun r =
        CliRun.of(
            "select", "--run-dir", run.toString(), "--set", "select.mix.instruction-ratio=0.5");
    assertEquals(0, r.exitCode(), r.toString());
    Path exports = run.resolve("exports");
    try (var files = Files.list(exports)) {
      assertEquals(
          Set.of("sft.jsonl", "sft_alpaca.json", "sft_messages.jsonl", "dataset_info.json"),
          new TreeSet<>(files.map(p -> p.getFileName().toString()).toList()));
    }
    int rows = SelectJobTest.sft(run).size();
    assertEquals(rows, trlPromptCompletion(exports.resolve("sft.jsonl")));
    assertEquals(rows, trlConversational(exports.resolve("sft_messages.jsonl")));
    assertEquals(rows, msSwift(exports.resolve("sft_messages.jsonl")));
    assertEquals(Map.of("sft", rows, "sft_messages", rows), llamaFactory(exports));
  }

  @Test
  void rowsWithASystemPromptAndHistoryLoadInEveryTrainer() throws Exception {
    SftExport.write(
        SftExportTest.sample(),
        dir,
        new SftExport.Settings(
            List.of(SftExport.Format.JSONL, SftExport.Format.ALPACA, SftExport.Format.MESSAGES),
            "mixed"));
    assertEquals(2, trlPromptCompletion(dir.resolve("mixed.jsonl")));
    assertEquals(2, trlConversational(dir.resolve("mixed_messages.jsonl")));
    assertEquals(2, msSwift(dir.resolve("mixed_messages.jsonl")));
    assertEquals(Map.of("mixed", 2, "mixed_messages", 2), llamaFactory(dir));
  }

  @Test
  void exportAllWritesEveryCompletedTableWithItsRejectsAndTheEvaluationParts() throws Exception {
    Path run = dir.resolve("run");
    SelectJobTest.writeFixture(run);
    assertEquals(0, CliRun.of("select", "--run-dir", run.toString()).exitCode());
    // evaluate's layout: evaluation/articles and evaluation/questions under one manifest
    StructType perArticle =
        new StructType()
            .add("article_id", DataTypes.StringType)
            .add("base_accuracy", DataTypes.DoubleType);
    for (String part : List.of("articles", "questions")) {
      TestSpark.session()
          .createDataFrame(List.of(RowFactory.create("A0", 0.5)), perArticle)
          .write()
          .parquet(run.resolve("evaluation").resolve(part).toString());
    }
    Files.writeString(
        run.resolve("evaluation").resolve(RunDir.MANIFEST),
        Manifest.start("evaluate", "evaluation", "c", "v", "f")
            .finish(Manifest.COMPLETED)
            .toJson());
    TestSpark.session()
        .createDataFrame(
            List.of(RowFactory.create("missing field", "in.json", 3L, "{}")), Tables.REJECTS_SCHEMA)
        .write()
        .json(run.resolve(Tables.PROBLEMS).resolve(RunDir.REJECTS).toString());

    Path out = dir.resolve("out");
    CliRun all =
        CliRun.of("export", "--table", "all", "--run-dir", run.toString(), "--out", out.toString());
    assertEquals(0, all.exitCode(), all.toString());
    try (var files = Files.list(out)) {
      assertEquals(
          Set.of(
              "evaluation_articles.jsonl",
              "evaluation_questions.jsonl",
              "instructions.jsonl",
              "problems.jsonl",
              "problems_rejects.jsonl",
              "reasoning.jsonl",
              "self_edits.jsonl",
              "sft.jsonl",
              "ttt_scores.jsonl"),
          new TreeSet<>(files.map(p -> p.getFileName().toString()).toList()));
    }
    JsonNode reject =
        Json.MAPPER.readTree(Files.readAllLines(out.resolve("problems_rejects.jsonl")).get(0));
    assertEquals("missing field", reject.get("reason").asText());
    assertEquals(
        0.5,
        Json.MAPPER
            .readTree(Files.readAllLines(out.resolve("evaluation_articles.jsonl")).get(0))
            .get("base_accuracy")
            .asDouble());
    JsonNode sftLine = Json.MAPPER.readTree(Files.readAllLines(out.resolve("sft.jsonl")).get(0));
    assertTrue(sftLine.has("messages") && sftLine.has("origin_id"), "every column: " + sftLine);

    CliRun one =
        CliRun.of(
            "export",
            "--table",
            "evaluation",
            "--run-dir",
            run.toString(),
            "--out",
            dir.resolve("one").toString());
    assertEquals(0, one.exitCode(), one.toString());
    assertTrue(Files.exists(dir.resolve("one").resolve("evaluation_questions.jsonl")));
    CliRun unknown =
        CliRun.of(
            "export", "--table", "nope", "--run-dir", run.toString(), "--out", out.toString());
    assertEquals(2, unknown.exitCode());
    assertTrue(unknown.out().contains("evaluation, evaluation_seal"), unknown.out());
  }

  // ---- the trainers' documented formats ----

  static List<JsonNode> jsonLines(Path file) throws Exception {
    List<JsonNode> out = new ArrayList<>();
    Set<String> columns = null;
    for (String line : Files.readAllLines(file)) {
      JsonNode n = Json.MAPPER.readTree(line);
      assertTrue(n.isObject(), file + ": " + line);
      Set<String> names = new TreeSet<>();
      n.fieldNames().forEachRemaining(names::add);
      if (columns == null) {
        columns = names;
      }
      assertEquals(columns, names, file + ": every line has the same columns");
      for (String c : names) {
        // datasets infers one type per column: a column is null or one JSON type throughout
        if (!out.isEmpty() && !n.get(c).isNull() && !out.get(0).get(c).isNull()) {
          assertEquals(out.get(0).get(c).getNodeType(), n.get(c).getNodeType(), c);
        }
      }
      out.add(n);
    }
    assertFalse(out.isEmpty(), file + " is empty");
    return out;
  }

  /** TRL's standard prompt-completion format; returns the number of examples. */
  static int trlPromptCompletion(Path file) throws Exception {
    List<JsonNode> lines = jsonLines(file);
    for (JsonNode n : lines) {
      assertTrue(n.get("prompt").isTextual(), n.toString());
      assertTrue(n.get("completion").isTextual(), n.toString());
      assertFalse(n.has("messages"), "one format per file: " + n);
    }
    return lines.size();
  }

  /** TRL's conversational format: {@code messages} of role/content ending with the assistant. */
  static int trlConversational(Path file) throws Exception {
    List<JsonNode> lines = jsonLines(file);
    for (JsonNode n : lines) {
      JsonNode messages = n.get("messages");
      assertTrue(messages.isArray() && messages.size() >= 2, n.toString());
      for (JsonNode m : messages) {
        assertEquals(Set.of("content", "role"), fieldNames(m), m.toString());
        assertTrue(Set.of("system", "user", "assistant").contains(m.get("role").asText()));
        assertTrue(m.get("content").isTextual());
      }
      assertEquals("assistant", messages.get(messages.size() - 1).get("role").asText());
    }
    return lines.size();
  }

  /** ms-swift's messages format: optional system first, then user/assistant turns. */
  static int msSwift(Path file) throws Exception {
    List<JsonNode> lines = jsonLines(file);
    for (JsonNode n : lines) {
      List<String> roles = new ArrayList<>();
      n.get("messages").forEach(m -> roles.add(m.get("role").asText()));
      int start = roles.get(0).equals("system") ? 1 : 0;
      assertFalse(roles.subList(start, roles.size()).contains("system"), roles.toString());
      assertEquals(0, (roles.size() - start) % 2, roles.toString());
      for (int i = start; i < roles.size(); i++) {
        assertEquals((i - start) % 2 == 0 ? "user" : "assistant", roles.get(i), roles.toString());
      }
    }
    return lines.size();
  }

  /**
   * Loads every entry of {@code dir/dataset_info.json} as LLaMA-Factory's converters read it;
   * returns the examples per entry.
   */
  static Map<String, Integer> llamaFactory(Path dir) throws Exception {
    JsonNode info = Json.MAPPER.readTree(dir.resolve("dataset_info.json").toFile());
    Map<String, Integer> counts = new java.util.TreeMap<>();
    for (Iterator<Map.Entry<String, JsonNode>> it = info.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> e = it.next();
      JsonNode entry = e.getValue();
      Path file = dir.resolve(entry.get("file_name").asText());
      assertTrue(Files.exists(file), "dataset_info names " + file);
      List<JsonNode> records = new ArrayList<>();
      if (file.toString().endsWith(".jsonl")) {
        records.addAll(jsonLines(file));
      } else {
        Json.MAPPER.readTree(file.toFile()).forEach(records::add);
      }
      String formatting = entry.path("formatting").asText("alpaca");
      JsonNode columns = entry.path("columns");
      if (formatting.equals("alpaca")) {
        for (JsonNode rec : records) {
          assertTrue(rec.get(columns.path("prompt").asText("instruction")).isTextual());
          assertTrue(rec.get(columns.path("query").asText("input")).isTextual());
          assertTrue(rec.get(columns.path("response").asText("output")).isTextual());
          if (columns.has("system") && rec.has(columns.get("system").asText())) {
            assertTrue(rec.get(columns.get("system").asText()).isTextual());
          }
          if (columns.has("history") && rec.has(columns.get("history").asText())) {
            for (JsonNode pair : rec.get(columns.get("history").asText())) {
              assertEquals(2, pair.size(), pair.toString());
            }
          }
        }
      } else {
        assertEquals("sharegpt", formatting);
        JsonNode tags = entry.path("tags");
        String role = tags.path("role_tag").asText("from");
        String content = tags.path("content_tag").asText("value");
        String user = tags.path("user_tag").asText("human");
        String assistant = tags.path("assistant_tag").asText("gpt");
        String system = tags.path("system_tag").asText(null);
        for (JsonNode rec : records) {
          JsonNode messages = rec.get(columns.path("messages").asText("conversations"));
          assertNotNull(messages, rec.toString());
          int start = system != null && messages.get(0).get(role).asText().equals(system) ? 1 : 0;
          assertEquals(0, (messages.size() - start) % 2, "an even number of turns: " + rec);
          for (int i = start; i < messages.size(); i++) {
            assertEquals(
                (i - start) % 2 == 0 ? user : assistant,
                messages.get(i).get(role).asText(),
                rec.toString());
            assertTrue(messages.get(i).get(content).isTextual());
          }
        }
      }
      counts.put(e.getKey(), records.size());
    }
    return counts;
  }

  private static Set<String> fieldNames(JsonNode n) {
    Set<String> names = new TreeSet<>();
    n.fieldNames().forEachRemaining(names::add);
    return names;
  }
}
