package dev.editforge.select;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.editforge.CliRun;
import dev.editforge.SharedData;
import dev.editforge.TestSpark;
import dev.editforge.io.Manifest;
import dev.editforge.io.Rows;
import dev.editforge.io.RunDir;
import dev.editforge.io.SftRow;
import dev.editforge.io.SftSource;
import dev.editforge.io.SftTable;
import dev.editforge.io.Tables;
import dev.editforge.text.Json;
import dev.editforge.text.ReasoningPrompts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Stage tests of select through the CLI, on the shared local[2] session. */
class SelectJobTest {
  @TempDir Path dir;

  static Manifest manifest(Path run) throws Exception {
    return Manifest.parse(Files.readString(run.resolve("sft").resolve("_manifest.json")));
  }

  static List<SftRow> sft(Path run) {
    return SftTable.read(
        TestSpark.session(),
        new RunDir(run.toString(), TestSpark.session().sparkContext().hadoopConfiguration()));
  }

  static void assertCountsAddUp(Manifest m) {
    assertEquals(
        m.count("input"),
        m.count("accepted") + m.count("rejected") + m.count("duplicates"),
        m.toJson());
    assertEquals(m.count("accepted"), m.count("output"));
    assertEquals(
        m.count("output"),
        m.count("self_edit")
            + m.count("reasoning")
            + m.count("self_cognition")
            + m.count("instruction"));
  }

  @Test
  void goldenSealRunGivesSealsFiftyRowsInOrderAndTheSameJsonl() throws Exception {
    Path rank = SharedData.require("data/seal/rank_iter0.json");
    Path golden = SharedData.require("data/seal/sft_best1of5_iter0.jsonl");
    Path run = dir.resolve("run");
    // SEAL's file has only prompt and completion: the extra fields off reproduce it exactly
    CliRun r =
        CliRun.of(
            "select",
            "--seal-run",
            rank.toString(),
            "--k",
            "1",
            "--run-dir",
            run.toString(),
            "--set",
            "select.export.extra-fields=false");
    assertEquals(0, r.exitCode(), r.toString());

    List<String> lines = Files.readAllLines(golden);
    List<SftRow> rows = sft(run);
    assertEquals(50, lines.size());
    assertEquals(lines.size(), rows.size());
    for (int i = 0; i < lines.size(); i++) {
      JsonNode g = Json.MAPPER.readTree(lines.get(i));
      SftRow row = rows.get(i);
      assertEquals(g.get("prompt").asText(), row.prompt(), "row " + i + " prompt");
      assertEquals(g.get("completion").asText(), row.completion(), "row " + i + " completion");
      assertEquals(SftSource.SELF_EDIT, row.source());
      assertEquals(
          List.of("user", "assistant"), row.messages().stream().map(m -> m.role()).toList());
    }
    assertArrayEquals(
        Files.readAllBytes(golden),
        Files.readAllBytes(run.resolve("exports").resolve("sft.jsonl")),
        "the exported TRL file is byte-identical to SEAL's");

    Manifest m = manifest(run);
    assertEquals(Manifest.COMPLETED, m.status());
    assertEquals(250, m.count("input"));
    assertEquals(50, m.count("accepted"));
    assertEquals(200, m.count("rejected"));
    assertEquals(200, m.count("beyond_k"));
    assertEquals(50, m.count("articles"));
    assertEquals(50, m.count("self_edit"));
    assertCountsAddUp(m);
    assertTrue(r.out().contains("select: sft completed: 50 rows"), r.out());

    CliRun again =
        CliRun.of(
            "select",
            "--seal-run",
            rank.toString(),
            "--k",
            "1",
            "--run-dir",
            run.toString(),
            "--set",
            "select.export.extra-fields=false");
    assertTrue(again.out().contains("sft skipped: up-to-date"), again.out());
    Files.delete(run.resolve("exports").resolve("sft.jsonl"));
    CliRun restore =
        CliRun.of(
            "select",
            "--seal-run",
            rank.toString(),
            "--k",
            "1",
            "--run-dir",
            run.toString(),
            "--set",
            "select.export.extra-fields=false");
    assertTrue(restore.out().contains("rewrote export"), restore.out());
    assertArrayEquals(
        Files.readAllBytes(golden),
        Files.readAllBytes(run.resolve("exports").resolve("sft.jsonl")));

    CliRun k2 =
        CliRun.of("select", "--seal-run", rank.toString(), "--k", "2", "--run-dir", run.toString());
    assertTrue(k2.out().contains("sft completed: 100 rows"), "a new k recomputes: " + k2.out());
  }

  static Row edit(String id, String article, int sample, String completion) {
    return RowFactory.create(
        id,
        article,
        "implications",
        "prompt of " + article,
        completion,
        "m",
        RowFactory.create(1.0, 0.95, 0, 64, 42L, sample),
        "stop",
        null);
  }

  static Row score(String edit, String article, int repeat, double adapter) {
    return RowFactory.create(
        edit,
        article,
        repeat,
        0.1,
        adapter,
        adapter - 0.1,
        Rows.seq(List.of(1)),
        Rows.seq(List.of()),
        2,
        100L,
        RowFactory.create(32, 64.0, 0.0, Rows.seq(List.of("q_proj", "v_proj")), 10, 1e-3, 1L),
        1.5);
  }

  static Row trace(
      String id, int question, String reasoning, Boolean agrees, Double share, String error) {
    return RowFactory.create(id, "P1", question, 0, reasoning, "A", "A", agrees, share, error);
  }

  static Row instruction(String id, String... turns) {
    List<Row> ms = new ArrayList<>();
    for (int i = 0; i < turns.length; i += 2) {
      ms.add(RowFactory.create(turns[i], turns[i + 1]));
    }
    return RowFactory.create(id, Rows.seq(ms), "messages");
  }

  static void writeFixture(Path run) throws Exception {
    RunTables.write(
        run,
        Tables.SELF_EDITS,
        List.of(
            edit("e-z", "A1", 0, "first of a tie"),
            edit("e-a", "A1", 1, "second of a tie"),
            edit("e-m", "A1", 2, "never scored"),
            edit("b0", "A0", 0, "low"),
            edit("b1", "A0", 1, "  high  \n"),
            edit("b2", "A0", 2, "   ")));
    RunTables.write(
        run,
        Tables.TTT_SCORES,
        List.of(
            score("e-z", "A1", 0, 0.5),
            score("e-z", "A1", 1, 0.5),
            score("e-a", "A1", 1, 0.25),
            score("e-a", "A1", 0, 0.75),
            score("b0", "A0", 0, 0.2),
            score("b1", "A0", 0, 0.8),
            score("b2", "A0", 0, 1.0)));
    RunTables.write(
        run,
        Tables.PROBLEMS,
        List.of(
            RowFactory.create(
                "P1",
                "Three friends ...",
                Rows.seq(List.of(RowFactory.create("Who?", Rows.seq(List.of("x", "y")), "A"))))));
    RunTables.write(
        run,
        Tables.REASONING,
        List.of(
            trace("t1", 0, " Step 1 ...\nAnswer: A ", true, 1.0, null),
            trace("t2", 0, "wrong ... Answer: B", false, 0.5, null),
            trace("t3", 0, null, null, null, "timeout"),
            trace("t4", 5, "Answer: A", true, 1.0, null)));
    RunTables.write(
        run,
        Tables.INSTRUCTIONS,
        List.of(
            instruction("i1", "user", "u1", "assistant", "a1"),
            instruction("i2", "user", "u2", "assistant", "a2"),
            instruction("i3", "system", "s", "user", "u3", "assistant", "a3"),
            instruction("i4", "user", "u4", "assistant", "a4"),
            instruction("i5", "assistant", "no user")));
  }

  @Test
  void tablesToSftWithEverySourceAndCountsThatAddUp() throws Exception {
    Path run = dir.resolve("run");
    writeFixture(run);
    CliRun r =
        CliRun.of(
            "select",
            "--run-dir",
            run.toString(),
            "--set",
            "select.identity.count=3",
            "--set",
            "select.identity.model-name=Forge",
            "--set",
            "select.identity.model-author=Acme",
            "--set",
            "select.mix.instruction-ratio=0.25",
            "--set",
            "select.export.formats=[jsonl,alpaca,messages]");
    assertEquals(0, r.exitCode(), r.toString());
    List<SftRow> rows = sft(run);
    List<String> sources = rows.stream().map(x -> x.source().wireName()).toList();
    assertEquals(
        List.of(
            "self_edit",
            "self_edit",
            "reasoning",
            "self_cognition",
            "self_cognition",
            "self_cognition",
            "instruction",
            "instruction"),
        sources);
    // Articles in id order; A0's best is stripped; A1's tie keeps sample 0 although its id sorts
    // last.
    assertEquals("high", rows.get(0).completion());
    assertEquals("b1", rows.get(0).originId());
    assertEquals(0.8, rows.get(0).score());
    assertEquals("prompt of A0", rows.get(0).prompt());
    assertEquals("first of a tie", rows.get(1).completion());
    assertEquals(0.5, rows.get(1).score());
    SftRow reasoning = rows.get(2);
    assertEquals(
        ReasoningPrompts.builtIn()
            .student("solve-en", "Three friends ...", "Who?", List.of("x", "y")),
        reasoning.prompt());
    assertEquals("Step 1 ...\nAnswer: A", reasoning.completion());
    assertEquals("t1", reasoning.originId());
    assertTrue(
        rows.get(3).completion().contains("Forge") || rows.get(3).completion().contains("Acme"),
        rows.get(3).completion());

    Manifest m = manifest(run);
    assertCountsAddUp(m);
    assertEquals(6 + 4 + 3 + 5, m.count("input"));
    assertEquals(8, m.count("accepted"));
    assertEquals(0, m.count("duplicates"));
    assertEquals(10, m.count("rejected"));
    assertEquals(1, m.count("unscored"));
    assertEquals(1, m.count("blank"));
    assertEquals(2, m.count("beyond_k"));
    assertEquals(2, m.count("articles"));
    assertEquals(1, m.count("reasoning_not_agreeing"));
    assertEquals(1, m.count("reasoning_failed"));
    assertEquals(1, m.count("reasoning_no_problem"));
    assertEquals(1, m.count("instructions_invalid"));
    assertEquals(2, m.count("instructions_not_drawn"));
    assertEquals(2, m.count("instruction"));
    assertEquals(3, m.count("self_cognition"));

    Path exports = run.resolve("exports");
    assertEquals(8, Files.readAllLines(exports.resolve("sft.jsonl")).size());
    assertEquals(8, Files.readAllLines(exports.resolve("sft_messages.jsonl")).size());
    assertEquals(8, Json.MAPPER.readTree(exports.resolve("sft_alpaca.json").toFile()).size());
    assertEquals(
        "sft_alpaca.json",
        Json.MAPPER
            .readTree(exports.resolve("dataset_info.json").toFile())
            .get("sft")
            .get("file_name")
            .asText());

    // Agreement off: the non-agreeing trace joins; a changed setting recomputes.
    CliRun all =
        CliRun.of(
            "select", "--run-dir", run.toString(), "--set", "select.reasoning.only-agreeing=false");
    assertEquals(0, all.exitCode(), all.toString());
    assertEquals(
        List.of("t1", "t2"),
        sft(run).stream()
            .filter(x -> x.source() == SftSource.REASONING)
            .map(SftRow::originId)
            .toList());
    CliRun noReasoning =
        CliRun.of("select", "--run-dir", run.toString(), "--set", "select.reasoning.enabled=false");
    assertEquals(0, noReasoning.exitCode(), noReasoning.toString());
    Manifest off = manifest(run);
    assertEquals(0, off.count("reasoning"));
    assertEquals(6, off.count("input"));
    assertCountsAddUp(off);
  }

  @Test
  void missingUpstreamTablesExitTwoNamingTheStageToRun() throws Exception {
    Path run = dir.resolve("run");
    CliRun r = CliRun.of("select", "--run-dir", run.toString());
    assertEquals(2, r.exitCode(), r.toString());
    assertTrue(
        r.err().contains("select needs table ttt_scores")
            && r.err().contains("run `editforge score` first"),
        r.err());
    assertFalse(Files.exists(run.resolve("sft")));

    RunTables.write(run, Tables.SELF_EDITS, List.of(edit("e", "A", 0, "x")));
    RunTables.write(run, Tables.TTT_SCORES, List.of(score("e", "A", 0, 0.5)));
    CliRun noInstructions =
        CliRun.of(
            "select", "--run-dir", run.toString(), "--set", "select.mix.instruction-ratio=0.5");
    assertEquals(2, noInstructions.exitCode(), noInstructions.toString());
    assertTrue(noInstructions.err().contains("instructions:FILE"), noInstructions.err());

    CliRun missingFile =
        CliRun.of(
            "select",
            "--seal-run",
            dir.resolve("absent.json").toString(),
            "--run-dir",
            run.toString());
    assertEquals(2, missingFile.exitCode(), missingFile.toString());
    assertTrue(missingFile.err().contains("absent.json"), missingFile.err());

    CliRun ok = CliRun.of("select", "--run-dir", run.toString());
    assertEquals(0, ok.exitCode(), ok.toString());
    assertNull(
        sft(run).get(0).messages().stream()
            .filter(x -> x.role().equals("system"))
            .findFirst()
            .orElse(null));
  }

  @Test
  void importedSealEditsScoredInTheRunAreSelectedByTheirSampleOrder() throws Exception {
    String prompt = dev.editforge.text.SelfEditPrompts.builtIn().render("implications", "T", "C");
    Path f = dir.resolve("synthetic.json");
    Files.writeString(
        f,
        "[{\"title\":\"T\",\"context\":\"C\",\"questions\":[{\"question\":\"q\",\"answer\":\"a\"}],"
            + "\"completions\":[\"zero\",\"one\",\"two\"],\"prompt\":"
            + Json.compact(prompt)
            + "}]");
    Path run = dir.resolve("run");
    assertEquals(
        0,
        CliRun.of("generate", "--import-seal", f.toString(), "--run-dir", run.toString())
            .exitCode());
    List<Row> edits =
        TestSpark.session()
            .read()
            .parquet(run.resolve("self_edits").toString())
            .orderBy("sampling.sample_index")
            .collectAsList();
    // Samples 1 and 2 tie for the best accuracy: the earlier sample wins.
    double[] acc = {0.0, 1.0, 1.0};
    List<Row> scores = new ArrayList<>();
    for (int i = 0; i < 3; i++) {
      scores.add(score(edits.get(i).getString(0), edits.get(i).getString(1), 0, acc[i]));
    }
    RunTables.write(run, Tables.TTT_SCORES, scores);
    CliRun r = CliRun.of("select", "--run-dir", run.toString());
    assertEquals(0, r.exitCode(), r.toString());
    assertEquals(
        List.of(
            "{\"prompt\": "
                + dev.editforge.io.PyJson.dumps(prompt)
                + ", \"completion\": \"one\", \"source\": \"self_edit\", \"origin_id\": "
                + dev.editforge.io.PyJson.dumps(sft(run).get(0).originId())
                + ", \"score\": 1.0}"),
        Files.readAllLines(run.resolve("exports").resolve("sft.jsonl")));
  }
}
