package dev.editforge.retrieve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.CliRun;
import dev.editforge.TestSpark;
import dev.editforge.finetune.SelfRagTrainedModel;
import dev.editforge.generate.TinyRandomModel;
import dev.editforge.llm.remote.FakeOpenAi;
import dev.editforge.selfrag.SelfRagServer;
import dev.editforge.selfrag.SelfRagTinyModel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code selfrag-answer} and {@code evaluate --protocol selfrag} end to end through the CLI on a
 * three-passage BM25 index: against a scripted Self-RAG server returning logprobs (exact answers
 * and accuracies), against a tiny local model with the reflection tokens (every mode and the long
 * form run), and the bad inputs that exit 2.
 */
class SelfRagCommandsTest {
  @TempDir static Path dir;
  static String run;
  static Path questions;

  @BeforeAll
  static void buildIndex() throws Exception {
    Path tsv = dir.resolve("p.tsv");
    Files.writeString(
        tsv,
        "id\ttext\ttitle\n"
            + "1\tParis is the capital and largest city of France.\tParis\n"
            + "2\tLyon is a city in France on the Rhone.\tLyon\n"
            + "3\tHamlet is a tragedy set in Denmark.\tHamlet\n");
    run = dir.resolve("run").toString();
    CliRun ingest = CliRun.of("ingest", "--input", "dpr:" + tsv, "--run-dir", run);
    assertEquals(0, ingest.exitCode(), ingest.toString());
    CliRun index = CliRun.of("index", "--run-dir", run, "--set", "index.vectors=false");
    assertEquals(0, index.exitCode(), index.toString());
    questions = dir.resolve("q.jsonl");
    Files.writeString(
        questions,
        "{\"id\": \"q1\", \"question\": \"What is the capital of France?\", \"answers\": [\"Paris\"]}\n"
            + "{\"id\": \"q2\", \"question\": \"Who wrote Hamlet?\", \"answers\": [\"Shakespeare\"]}\n");
  }

  static String[] args(String... extra) {
    List<String> a = new ArrayList<>(List.of(extra));
    a.addAll(List.of("--run-dir", run, "--set", "retrieve.mode=bm25", "--set", "selfrag.ndocs=2"));
    return a.toArray(new String[0]);
  }

  static Map<String, Row> rowsByModeAndId(String table) {
    Map<String, Row> out = new HashMap<>();
    for (Row r :
        TestSpark.session().read().parquet(Path.of(run, table).toString()).collectAsList()) {
      out.put(r.getAs("mode") + "/" + r.getAs("query_id"), r);
    }
    return out;
  }

  @Test
  void evaluateAgainstAScriptedServerGivesExactAnswersAndAccuracies() throws Exception {
    try (FakeOpenAi server = new FakeOpenAi(new SelfRagServer(0))) {
      CliRun r =
          CliRun.of(
              args(
                  "evaluate",
                  "--protocol",
                  "selfrag",
                  "--questions",
                  questions.toString(),
                  "--set",
                  "selfrag.backend=openai",
                  "--set",
                  "selfrag.model=selfrag-7b",
                  "--set",
                  "remote.endpoint=" + server.endpoint()));
      assertEquals(0, r.exitCode(), r.toString());
      // adaptive retrieves for q1 only ("capital"); always answers from the Paris passage; never
      // answers "I do not know".
      assertTrue(r.out().matches("(?s).*adaptive\\s+2\\s+50\\.0\\s+50\\.0.*"), r.out());
      assertTrue(r.out().matches("(?s).*always\\s+2\\s+50\\.0\\s+100\\.0.*"), r.out());
      assertTrue(r.out().matches("(?s).*never\\s+2\\s+0\\.0\\s+0\\.0.*"), r.out());
      Map<String, Row> rows = rowsByModeAndId(SelfRagEvaluation.TABLE);
      assertEquals(6, rows.size(), rows.toString());
      Row always = rows.get("always/q1");
      assertEquals("Paris it is", always.getAs("answer"));
      assertEquals("1", always.getAs("chosen_passage_id"), "the Paris passage won");
      assertEquals(2, always.getList(always.fieldIndex("passage_ids")).size());
      List<Row> cands = always.getList(always.fieldIndex("candidates"));
      Row paris = cands.stream().filter(c -> "1".equals(c.getAs("passage_id"))).findFirst().get();
      // relevance 0.8 / (0.8 + 0.2); support 0.7 + 0.5 * 0.2 over 1.0; utility (0.6 * 1 + 0.3 *
      // 0.5 - 0.1 - ...) over 1.0 = 0.65; exp(mean ln(0.8, 0.9, 0.8, 0.7, 0.6)).
      assertEquals(0.8, (double) paris.getAs("relevance"), 1e-9);
      assertEquals(0.8, (double) paris.getAs("groundness"), 1e-9);
      assertEquals(0.6 + 0.15 - 0.1, (double) paris.getAs("utility"), 1e-9);
      double seq = Math.pow(0.8 * 0.9 * 0.8 * 0.7 * 0.6, 1.0 / 5);
      assertEquals(seq + 0.8 + 0.8 + 0.65, (double) paris.getAs("total"), 1e-9);
      assertTrue((boolean) always.getAs("match"));
      Row adaptive2 = rows.get("adaptive/q2");
      assertFalse((boolean) adaptive2.getAs("retrieved"));
      assertEquals("I do not know", adaptive2.getAs("answer"));
      assertEquals(0.05 / 0.95, (double) adaptive2.getAs("retrieve_ratio"), 1e-9);
      assertNull(adaptive2.getAs("chosen_passage_id"));
      // Each retrieved passage went to the server once per retrieving mode: q1 has 2 passages
      // (adaptive and always), q2 (always only) 1, as BM25 matches only "Hamlet".
      int passages = 0;
      for (Row row : rows.values()) {
        passages += row.getList(row.fieldIndex("candidates")).size();
      }
      assertEquals(2 + 2 + 1, passages);
      assertEquals(passages, server.callsContaining("</paragraph>").size());
    }
  }

  @Test
  void asWrittenLogprobRuleRetrievesWhereTheIntendedRuleDoesNot() throws Exception {
    try (FakeOpenAi server = new FakeOpenAi(new SelfRagServer(0))) {
      CliRun r =
          CliRun.of(
              args(
                  "selfrag-answer",
                  "--mode",
                  "adaptive",
                  "--questions",
                  questions.toString(),
                  "--backend",
                  "openai",
                  "--model",
                  "selfrag-7b",
                  "--set",
                  "selfrag.as-written=[logprob-threshold]",
                  "--set",
                  "remote.endpoint=" + server.endpoint()));
      assertEquals(0, r.exitCode(), r.toString());
      Map<String, Row> rows = rowsByModeAndId(SelfRagAnswerJob.TABLE);
      Row q2 = rows.get("adaptive/q2");
      // ln 0.05 / (ln 0.05 + ln 0.9) = 0.966 > 0.2: as written, the unlikely [Retrieval] retrieves.
      assertEquals(
          Math.log(0.05) / (Math.log(0.05) + Math.log(0.9)),
          (double) q2.getAs("retrieve_ratio"),
          1e-9);
      assertTrue((boolean) q2.getAs("retrieved"));
    }
  }

  @Test
  void longFormSearchesSegmentsWithThePassageBehindEach() throws Exception {
    try (FakeOpenAi server = new FakeOpenAi(new SelfRagServer(3))) {
      CliRun r =
          CliRun.of(
              args(
                  "selfrag-answer",
                  "--mode",
                  "always",
                  "--long-form",
                  "--questions",
                  questions.toString(),
                  "--backend",
                  "openai",
                  "--model",
                  "selfrag-7b",
                  "--set",
                  "remote.endpoint=" + server.endpoint()));
      assertEquals(0, r.exitCode(), r.toString());
      Row q1 = rowsByModeAndId(SelfRagAnswerJob.TABLE).get("always/q1");
      List<Row> segs = q1.getList(q1.fieldIndex("segments"));
      // The server asks for more evidence while the prompt holds fewer than 3 passages: 3 levels.
      assertEquals(3, segs.size(), segs.toString());
      for (Row s : segs) {
        assertEquals("Paris it is", s.getAs("text"));
        assertEquals("1", s.getAs("passage_id"));
      }
      assertEquals("long", q1.getAs("form"));
      assertEquals("Paris it is Paris it is Paris it is", q1.getAs("answer"));
    }
  }

  /**
   * Issue 13 on the model issue 12's training makes (SelfRagTrainedModel: a tiny Qwen2 fine-tuned
   * with the 15 tokens added): adaptive mode retrieves for the question it learned needs passages
   * and not for the poem, and every mode and the long form run through it.
   */
  @Test
  void everyModeAndTheLongFormRunOnATinyModelFineTunedWithReflectionTokens() throws Exception {
    Path model = SelfRagTrainedModel.merged();
    // Both match indexed passages (BM25 finds them in always mode); Lyon is not a training city.
    Path learned = dir.resolve("learned.jsonl");
    Files.writeString(
        learned,
        "{\"id\": \"q1\", \"question\": \""
            + SelfRagTrainedModel.needsRetrievalQuestion("Lyon")
            + "\", \"answers\": [\"king\"]}\n"
            + "{\"id\": \"q2\", \"question\": \""
            + SelfRagTrainedModel.noRetrievalInstruction("Paris")
            + "\", \"answers\": [\"words\"]}\n");
    CliRun r =
        CliRun.of(
            args(
                "evaluate",
                "--protocol",
                "selfrag",
                "--questions",
                learned.toString(),
                "--model",
                model.toString(),
                "--set",
                "selfrag.max-new-tokens=6"));
    assertEquals(0, r.exitCode(), r.toString());
    Map<String, Row> rows = rowsByModeAndId(SelfRagEvaluation.TABLE);
    assertEquals(6, rows.size());
    assertTrue((boolean) rows.get("adaptive/q1").getAs("retrieved"), rows.toString());
    assertFalse((boolean) rows.get("adaptive/q2").getAs("retrieved"), rows.toString());
    for (Row row : rows.values()) {
      assertNull(row.getAs("error"), row.toString());
      String mode = row.getAs("mode");
      boolean retrieved = row.getAs("retrieved");
      if (!mode.equals("adaptive")) {
        assertEquals(mode.equals("always"), retrieved, row.toString());
      }
      if (retrieved) {
        assertEquals(
            row.getList(row.fieldIndex("passage_ids")).size(),
            row.getList(row.fieldIndex("candidates")).size(),
            "one candidate per retrieved passage");
      }
    }
    CliRun longForm =
        CliRun.of(
            args(
                "selfrag-answer",
                "--mode",
                "always",
                "--long-form",
                "--questions",
                questions.toString(),
                "--model",
                model.toString(),
                "--set",
                "selfrag.segment-tokens=4",
                "--set",
                "selfrag.max-depth=3"));
    assertEquals(0, longForm.exitCode(), longForm.toString());
    Row q1 = rowsByModeAndId(SelfRagAnswerJob.TABLE).get("always/q1");
    assertNull(q1.getAs("error"));
    assertTrue(q1.getList(q1.fieldIndex("segments")).size() >= 1);
  }

  @Test
  void badInputExitsTwoNamingTheProblem() throws Exception {
    Path noQuestion = dir.resolve("bad.jsonl");
    Files.writeString(noQuestion, "{\"id\": \"x\", \"query\": \"what?\", \"answers\": [\"a\"]}\n");
    Path noAnswers = dir.resolve("noanswers.jsonl");
    Files.writeString(noAnswers, "{\"id\": \"x\", \"question\": \"what?\"}\n");
    Path selfrag = SelfRagTinyModel.write(dir.resolve("tiny-selfrag"), 7);
    CliRun a =
        CliRun.of(
            args(
                "selfrag-answer",
                "--questions",
                noQuestion.toString(),
                "--model",
                selfrag.toString()));
    assertEquals(2, a.exitCode(), a.toString());
    assertTrue(a.err().contains("question"), a.err());
    CliRun b =
        CliRun.of(
            args(
                "evaluate",
                "--protocol",
                "selfrag",
                "--questions",
                noAnswers.toString(),
                "--model",
                selfrag.toString()));
    assertEquals(2, b.exitCode(), b.toString());
    assertTrue(b.err().contains("has no \"answers\""), b.err());
    CliRun c =
        CliRun.of(
            args(
                "selfrag-answer",
                "--questions",
                questions.toString(),
                "--model",
                selfrag.toString(),
                "--ndocs",
                "5"));
    assertEquals(2, c.exitCode(), c.toString());
    assertTrue(
        c.err().contains("editforge.selfrag.ndocs") && c.err().contains("3 passages"), c.err());
    Path plain = TinyRandomModel.write(dir.resolve("plain"), 32, 1, 128, 3);
    CliRun d =
        CliRun.of(
            args(
                "selfrag-answer",
                "--questions",
                questions.toString(),
                "--model",
                plain.toString()));
    assertEquals(2, d.exitCode(), d.toString());
    assertTrue(
        d.err().contains("reflection tokens")
            && d.err().contains("train it with the tokens added first"),
        d.err());
    assertFalse(Files.exists(Path.of(run, SelfRagAnswerJob.TABLE, "_staging")));
  }

  /**
   * The PopQA check: the first 50 PopQA long-tail questions over an index of the shared DPR
   * sample passages, against the scripted server: the table and the per-question rows.
   */
  @Test
  void popQaSliceOverTheSharedDprSample() throws Exception {
    Path popqa = dev.editforge.SharedData.require("data/selfrag/popqa_longtail.jsonl");
    Path tsv = dev.editforge.SharedData.require("data/dpr/psgs_w100_sample.tsv");
    String popRun = dir.resolve("popqa-run").toString();
    assertEquals(0, CliRun.of("ingest", "--input", "dpr:" + tsv, "--run-dir", popRun).exitCode());
    assertEquals(
        0, CliRun.of("index", "--run-dir", popRun, "--set", "index.vectors=false").exitCode());
    try (FakeOpenAi server = new FakeOpenAi(new SelfRagServer(0))) {
      CliRun r =
          CliRun.of(
              "evaluate",
              "--protocol",
              "selfrag",
              "--questions",
              popqa.toString(),
              "--max-questions",
              "50",
              "--run-dir",
              popRun,
              "--set",
              "retrieve.mode=bm25",
              "--set",
              "selfrag.backend=openai",
              "--set",
              "selfrag.model=selfrag-7b",
              "--set",
              "remote.endpoint=" + server.endpoint());
      assertEquals(0, r.exitCode(), r.toString());
      assertTrue(r.out().contains("mode") && r.out().contains("match %"), r.out());
      List<Row> rows =
          TestSpark.session()
              .read()
              .parquet(Path.of(popRun, SelfRagEvaluation.TABLE).toString())
              .collectAsList();
      assertEquals(150, rows.size(), "50 questions x 3 modes");
      for (Row row : rows) {
        assertNull(row.getAs("error"));
        boolean retrieved = row.getAs("retrieved");
        assertEquals(retrieved ? 10 : 0, row.getList(row.fieldIndex("passage_ids")).size());
        // match is Self-RAG's: a gold alias is a case-sensitive substring of the answer.
        List<String> gold = row.getList(row.fieldIndex("answers"));
        String answer = row.getAs("answer");
        assertEquals(gold.stream().anyMatch(answer::contains), row.getAs("match"));
      }
      // No PopQA question mentions a capital: adaptive never retrieves, always always does.
      assertTrue(r.out().matches("(?s).*adaptive\\s+50\\s+\\S+\\s+0\\.0.*"), r.out());
      assertTrue(r.out().matches("(?s).*always\\s+50\\s+\\S+\\s+100\\.0.*"), r.out());
    }
  }
}
