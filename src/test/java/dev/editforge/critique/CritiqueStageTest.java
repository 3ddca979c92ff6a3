package dev.editforge.critique;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.CliRun;
import dev.editforge.TestSpark;
import dev.editforge.io.Manifest;
import dev.editforge.io.Tables;
import dev.editforge.llm.remote.FakeOpenAi;
import dev.editforge.selfrag.CriticPrompts;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * critique against a scripted OpenAI-compatible server that answers well, unparseably or with HTTP
 * 500 on a question's first attempt: every row ends labelled or with its reason, and a rerun asks
 * exactly the failed questions again; generator-data then assembles Self-RAG rows from the labels.
 */
class CritiqueStageTest {
  static final int INSTRUCTIONS = 20;

  /** A good reply for the template the prompt came from. */
  static String good(String prompt) {
    if (prompt.endsWith("Need retrieval?: ")) {
      return "[Yes]\nExplanation: facts help.";
    }
    if (prompt.endsWith("Rating: ")) {
      return "[Retrieval]\nExplanation: more evidence needed.";
    }
    if (prompt.endsWith("Rating:")) {
      return "[Relevant]\nExplanation: on topic.";
    }
    if (prompt.endsWith("Score: ")) {
      return "[Fully supported]\nExplanation: stated in the passage.";
    }
    return "Perceived utility: 4\nExplanation: mostly complete.";
  }

  static FakeOpenAi.Reply script(FakeOpenAi.Call call) {
    int bucket = Math.floorMod(call.key().hashCode(), 10);
    if (call.attempt() == 1 && bucket == 0) {
      return FakeOpenAi.Reply.error(500);
    }
    if (call.attempt() == 1 && bucket == 1) {
      return FakeOpenAi.Reply.text(call, "I would rather not say.");
    }
    return FakeOpenAi.Reply.text(call, good(call.key()));
  }

  static Path plant(Path dir) throws Exception {
    Path run = dir.resolve("run");
    List<Row> instructions = new ArrayList<>();
    List<Row> retrievals = new ArrayList<>();
    for (int i = 0; i < INSTRUCTIONS; i++) {
      String instruction = "Tell me about the harbour of town number " + i + ".";
      String output =
          "Town "
              + i
              + " has a small harbour with twelve fishing boats. Its pier was rebuilt in the year 19"
              + (10 + i)
              + " after a storm.";
      instructions.add(
          RowFactory.create(
              "i" + i,
              List.of(
                  RowFactory.create("user", instruction), RowFactory.create("assistant", output)),
              "alpaca"));
      List<Row> ctxs = new ArrayList<>();
      for (int p = 0; p < 2; p++) {
        ctxs.add(
            RowFactory.create(
                "p" + i + "-" + p,
                "s" + i + "-" + p,
                "Town " + i + (p == 0 ? " harbour" : " pier"),
                "Passage " + p + " about town " + i + ".",
                1.0 - p * 0.1,
                p + 1));
      }
      retrievals.add(RowFactory.create("q" + i, instruction, ctxs));
    }
    write(run, Tables.INSTRUCTIONS, instructions);
    write(run, Tables.RETRIEVALS, retrievals);
    return run;
  }

  /** A table as its stage would leave it: Parquet and a completed manifest. */
  static void write(Path run, String name, List<Row> rows) throws Exception {
    Path table = run.resolve(name);
    TestSpark.session()
        .createDataFrame(rows, Tables.schema(name))
        .coalesce(1)
        .write()
        .parquet(table.toString());
    Files.writeString(
        table.resolve("_manifest.json"),
        Manifest.start("test", name, "cfg", "test", "fp-" + name)
            .count("output", rows.size())
            .finish(Manifest.COMPLETED)
            .toJson());
  }

  static CliRun critique(FakeOpenAi server, Path run, String... extra) {
    List<String> args =
        new java.util.ArrayList<>(
            List.of(
                "critique",
                "--run-dir",
                run.toString(),
                "--endpoint",
                server.endpoint().toString(),
                "--model",
                "judge-4",
                "--set",
                "editforge.remote.max-retries=0",
                "--set",
                "editforge.critique.partitions=3",
                "--set",
                "editforge.critique.max-concurrency=4"));
    args.addAll(List.of(extra));
    return CliRun.of(args.toArray(new String[0]));
  }

  static List<Row> labels(Path run) {
    return TestSpark.session()
        .read()
        .parquet(run.resolve(CritiqueTables.CRITIC_LABELS).toString())
        .collectAsList();
  }

  @Test
  void everyQuestionEndsLabelledOrWithItsReasonAndARerunAsksOnlyTheFailedOnes(@TempDir Path dir)
      throws Exception {
    Path run = plant(dir);
    try (FakeOpenAi server = new FakeOpenAi(CritiqueStageTest::script)) {
      // Any error is too many here: the table is committed as failed, labelled rows kept, exit 3.
      CliRun first = critique(server, run, "--set", "editforge.critique.max-error-fraction=0");
      assertEquals(3, first.exitCode(), first.toString());
      assertTrue(first.toString().contains("critique.max-error-fraction = 0.0%"), first.toString());
      assertTrue(first.out().contains("labels/s"), first.out());
      // per instruction: retrieval, utility, multi-retrieval (sentence 1); relevance and support
      // for 2 sentences x 2 passages
      int expected = INSTRUCTIONS * (3 + 2 * 2 * 2);
      List<Row> rows = labels(run);
      assertEquals(expected, rows.size());
      assertEquals(expected, server.calls.size());
      long errors = 0;
      long http = 0;
      long unparseable = 0;
      for (Row r : rows) {
        boolean labelled = !r.isNullAt(r.fieldIndex("label"));
        boolean failed = !r.isNullAt(r.fieldIndex("error"));
        assertTrue(labelled != failed, "exactly one of label and error: " + r);
        if (failed) {
          errors++;
          String why = r.getString(r.fieldIndex("error"));
          http += why.startsWith("judge call failed") && why.contains("500") ? 1 : 0;
          unparseable += why.startsWith("unparseable reply") ? 1 : 0;
          if (why.startsWith("unparseable reply")) {
            assertEquals("I would rather not say.", r.getString(r.fieldIndex("raw")));
          }
        }
      }
      assertTrue(
          http > 0 && unparseable > 0, "both failure kinds occur: " + http + "/" + unparseable);
      assertEquals(errors, http + unparseable);
      // the prompt is Self-RAG's, sent as the one user message
      String instruction = "Tell me about the harbour of town number 3.";
      assertEquals(1, server.calls(CriticPrompts.retrieval(instruction).prompt()).size());

      int before = server.calls.size();
      CliRun second = critique(server, run);
      assertEquals(0, second.exitCode(), second.toString());
      assertEquals(errors, server.calls.size() - before, "the rerun asks exactly the failed rows");
      List<Row> after = labels(run);
      assertEquals(expected, after.size());
      assertTrue(after.stream().allMatch(r -> r.isNullAt(r.fieldIndex("error"))));

      int before3 = server.calls.size();
      CliRun third = critique(server, run);
      assertEquals(0, third.exitCode(), third.toString());
      assertEquals(before3, server.calls.size(), "an up-to-date table asks nothing");
    }

    CliRun gen = CliRun.of("generator-data", "--run-dir", run.toString());
    assertEquals(0, gen.exitCode(), gen.toString());
    List<Row> sft =
        TestSpark.session()
            .read()
            .parquet(run.resolve(CritiqueTables.SELFRAG_SFT).toString())
            .collectAsList();
    assertEquals(INSTRUCTIONS, sft.size());
    Row r = sft.get(0);
    assertEquals("selfrag", r.getString(r.fieldIndex("source")));
    String completion = r.getString(r.fieldIndex("completion"));
    assertTrue(
        completion.matches(
            "\\[Retrieval\\]<paragraph>Town \\d+ harbour\\nPassage 0 about town \\d+\\.</paragraph>"
                + "\\[Relevant\\]Town \\d+ has a small harbour with twelve fishing boats\\.\\[Fully supported\\]"
                + "\\[Retrieval\\]<paragraph>Town \\d+ harbour\\n.*\\[Utility:4\\]"),
        completion);
    assertTrue(r.getString(r.fieldIndex("prompt")).startsWith("### Instruction:\nTell me about"));
    assertTrue(Files.exists(run.resolve("exports/selfrag_train.jsonl")));
    List<String> critic = Files.readAllLines(run.resolve("exports/selfrag_critic_dev.jsonl"));
    assertFalse(critic.isEmpty());
    assertTrue(critic.stream().anyMatch(l -> l.contains("\"task\":\"groudness\"")));
  }
}
