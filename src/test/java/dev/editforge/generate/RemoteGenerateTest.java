package dev.editforge.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.CliRun;
import dev.editforge.TestSpark;
import dev.editforge.io.Manifest;
import dev.editforge.llm.remote.FakeOpenAi;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The generate stages with backend openai against a scripted fake server on loopback. */
class RemoteGenerateTest {
  @TempDir Path dir;

  static String article(String title) {
    return "{\"title\":\""
        + title
        + "\",\"context\":\""
        + title
        + " is a small place.\","
        + "\"questions\":[{\"question\":\"What is "
        + title
        + "?\",\"answer\":\"a place\"}]}";
  }

  static String[] remote(String endpoint, Path run, String... extra) {
    return remoteWithTimeout(endpoint, run, "10s", extra);
  }

  static String[] remoteWithTimeout(String endpoint, Path run, String timeout, String... extra) {
    List<String> a =
        new java.util.ArrayList<>(
            List.of(
                "--backend",
                "openai",
                "--endpoint",
                endpoint,
                "--model",
                "served",
                "--run-dir",
                run.toString(),
                "--set",
                "remote.max-retries=1",
                "--set",
                "remote.initial-backoff=5ms",
                "--set",
                "remote.max-backoff=10ms",
                "--set",
                "remote.request-timeout=" + timeout,
                "--set",
                "remote.api-key-env=\"\"",
                "--set",
                "generate.empty-retries=1"));
    a.addAll(List.of(extra));
    return a.toArray(String[]::new);
  }

  static Manifest manifest(Path run, String table) throws Exception {
    return Manifest.parse(Files.readString(run.resolve(table).resolve("_manifest.json")));
  }

  @Test
  void faultsBecomeErrorRowsAndARerunRetriesOnlyThem() throws Exception {
    Path input = dir.resolve("articles.json");
    Files.writeString(
        input,
        "["
            + String.join(
                ",",
                article("Okland"),
                article("Failmoor"),
                article("Emptyvale"),
                article("Slowfield"))
            + "]");
    Path run = dir.resolve("run");
    assertEquals(
        0,
        CliRun.of("ingest", "--input", "squad:" + input, "--run-dir", run.toString()).exitCode());

    try (FakeOpenAi server =
        new FakeOpenAi(
            call -> {
              String p = call.key();
              if (p.contains("Failmoor")) {
                return FakeOpenAi.Reply.error(500);
              }
              if (p.contains("Emptyvale")) {
                return FakeOpenAi.Reply.text(call, "  ");
              }
              if (p.contains("Slowfield")) {
                return FakeOpenAi.Reply.text(call, "late").delayed(4000);
              }
              return FakeOpenAi.Reply.text(
                  call, "implication " + call.body().path("seed").asLong());
            })) {
      CliRun r =
          CliRun.of(
              prepend(
                  "generate",
                  remoteWithTimeout(server.endpoint().toString(), run, "1s", "--k", "2")));
      // A failed request is a row, never a failed job; but 6 of 8 is over max-error-fraction.
      assertEquals(3, r.exitCode(), r.toString());
      List<Row> rows =
          TestSpark.session().read().parquet(run.resolve("self_edits").toString()).collectAsList();
      assertEquals(8, rows.size());
      Map<String, List<Row>> byTitle =
          rows.stream()
              .collect(
                  Collectors.groupingBy(
                      row ->
                          row.getString(3)
                              .replaceAll("(?s).*?(Okland|Failmoor|Emptyvale|Slowfield).*", "$1")));
      for (Row ok : byTitle.get("Okland")) {
        assertNull(ok.get(8));
        assertEquals(
            "implication " + ok.getStruct(6).getLong(4),
            ok.getString(4),
            "the row's seed is the one sent");
        assertEquals("served", ok.getString(5));
      }
      for (Row bad : byTitle.get("Failmoor")) {
        assertTrue(bad.getString(8).contains("HTTP 500"), bad.getString(8));
        assertNull(bad.get(4));
      }
      for (Row empty : byTitle.get("Emptyvale")) {
        assertTrue(
            empty.getString(8).startsWith("empty completion after 2 attempts"), empty.getString(8));
      }
      for (Row slow : byTitle.get("Slowfield")) {
        assertTrue(slow.getString(8).contains("no response within 1000 ms"), slow.getString(8));
      }
      List<FakeOpenAi.Call> emptyCalls = server.callsContaining("Emptyvale");
      assertEquals(4, emptyCalls.size(), "2 samples x (1 + 1 empty retry)");
      assertEquals(
          4,
          new HashSet<>(emptyCalls.stream().map(c -> c.body().path("seed").asLong()).toList())
              .size(),
          "each retry has its own seed");
      assertEquals(
          4, server.callsContaining("Failmoor").size(), "2 samples x (1 + remote.max-retries)");
      Manifest m = manifest(run, "self_edits");
      assertEquals(Manifest.FAILED, m.status());
      assertEquals(6, m.count("errors"));
      assertEquals(0.75, ((Number) m.get("error_fraction")).doubleValue());
      assertTrue(
          String.valueOf(m.get("failure"))
              .startsWith(
                  "generate: self_edits: 6 of 8 rows have an error (75.0% > editforge.generate.max-error-fraction = 50.0%)"),
          String.valueOf(m.get("failure")));
      assertEquals(8, m.count("input"));
      assertEquals(
          m.count("input"), m.count("accepted") + m.count("rejected") + m.count("duplicates"));
    }

    // The server is fixed: a rerun asks only for the 6 failed rows and keeps the 2 good ones.
    try (FakeOpenAi fixed =
        new FakeOpenAi(
            call -> FakeOpenAi.Reply.text(call, "fixed " + call.body().path("seed").asLong()))) {
      CliRun r =
          CliRun.of(prepend("generate", remote(fixed.endpoint().toString(), run, "--k", "2")));
      assertEquals(0, r.exitCode(), r.toString());
      assertEquals(6, fixed.calls.size());
      assertEquals(0, fixed.callsContaining("Okland").size());
      Manifest m = manifest(run, "self_edits");
      assertEquals(Manifest.COMPLETED, m.status());
      assertEquals(0, m.count("errors"));
      assertEquals(2, m.count("reused"));
    }
  }

  /** {@code run} up to score with generate on {@code endpoint}, k = 1. */
  static CliRun runToScore(Path input, Path run, String endpoint) {
    return CliRun.of(
        "run",
        "--input",
        "squad:" + input,
        "--run-dir",
        run.toString(),
        "--to",
        "score",
        "--set",
        "generate.backend=openai",
        "--set",
        "remote.endpoint=\"" + endpoint + "\"",
        "--set",
        "generate.model=served",
        "--set",
        "generate.self-edit.k=1",
        "--set",
        "remote.max-retries=0",
        "--set",
        "remote.request-timeout=10s",
        "--set",
        "remote.api-key-env=\"\"",
        "--set",
        "ttt.model=\"./no-such-model\"");
  }

  @Test
  void aGenerateWhoseEveryRequestFailedExits3AndRunStopsThere() throws Exception {
    Path input = dir.resolve("articles.json");
    Files.writeString(
        input,
        "["
            + String.join(
                ",",
                article("Okland"),
                article("Failmoor"),
                article("Emptyvale"),
                article("Slowfield"))
            + "]");
    Path run = dir.resolve("run");
    try (FakeOpenAi server = new FakeOpenAi(call -> FakeOpenAi.Reply.error(500))) {
      CliRun r = runToScore(input, run, server.endpoint().toString());
      assertEquals(3, r.exitCode(), r.toString());
      Manifest m = manifest(run, "self_edits");
      assertEquals(Manifest.FAILED, m.status());
      assertEquals(4, m.count("errors"));
      assertEquals(4, m.count("output"), "the rows are still written");
      String failure = String.valueOf(m.get("failure"));
      assertTrue(failure.contains("4 of 4 rows have an error"), failure);
      assertTrue(failure.contains("HTTP 500"), "says what went wrong: " + failure);
      assertTrue(r.out().contains("generate: self_edits failed"), r.toString());
      assertTrue(r.out().contains("stopped at stage generate (exit 3)"), r.toString());
      assertFalse(Files.exists(run.resolve("ttt_scores")), "score did not run");
    }
  }

  @Test
  void aGenerateUnderTheThresholdCompletesAndRunGoesOn() throws Exception {
    Path input = dir.resolve("articles.json");
    Files.writeString(
        input,
        "["
            + String.join(
                ",",
                article("Okland"),
                article("Failmoor"),
                article("Emptyvale"),
                article("Slowfield"))
            + "]");
    Path run = dir.resolve("run");
    try (FakeOpenAi server =
        new FakeOpenAi(
            call ->
                call.key().contains("Failmoor")
                    ? FakeOpenAi.Reply.error(500)
                    : FakeOpenAi.Reply.text(call, "An implication."))) {
      CliRun r = runToScore(input, run, server.endpoint().toString());
      Manifest m = manifest(run, "self_edits");
      assertEquals(Manifest.COMPLETED, m.status(), r.toString());
      assertEquals(1, m.count("errors"));
      assertEquals(0.25, ((Number) m.get("error_fraction")).doubleValue());
      assertTrue(r.out().contains("generate: self_edits completed"), r.toString());
      // run went on to score, which fails on its absent model: the point is that it was reached
      assertFalse(r.out().contains("stopped at stage generate"), r.toString());
      assertTrue(r.exitCode() != 0 && r.exitCode() != 3, r.toString());
      assertTrue(r.toString().contains("no-such-model"), r.toString());
    }
  }

  @Test
  void reasoningAgreesWithGoldAndVotesWithoutIt() throws Exception {
    Path input = dir.resolve("logic.jsonl");
    Files.writeString(
        input,
        "{\"id\": \"P1\", \"problem\": \"Ann is taller than Bob. Bob is taller than Cy.\", \"questions\": ["
            + "{\"question\": \"Who is tallest?\", \"options\": [\"Bob\", \"Ann\", \"Cy\"], \"answer\": \"B\"},"
            + "{\"question\": \"Who is shortest?\", \"options\": [\"Cy\", \"Ann\", \"Bob\"], \"answer\": null},"
            + "{\"question\": \"Who is in the middle?\", \"options\": [\"Bob\", \"Cy\"], \"answer\": null}]}\n");
    Path run = dir.resolve("run");
    CliRun ing = CliRun.of("ingest", "--input", "logic:" + input, "--run-dir", run.toString());
    assertEquals(0, ing.exitCode(), ing.toString());
    // Per question, the k-th call gets a scripted answer (calls of one question may come in any
    // order,
    // but the multiset of answers is fixed).
    Map<String, AtomicInteger> calls = new ConcurrentHashMap<>();
    Map<String, List<String>> answers =
        Map.of(
            "tallest", List.of("Answer: B", "Answer: B", "Answer: C"),
            "shortest", List.of("Answer: A", "Answer: A", "the answer is C"),
            "middle", List.of("Answer: A", "Answer: B", "I do not know"));
    try (FakeOpenAi server =
        new FakeOpenAi(
            call -> {
              String p = call.key();
              String q =
                  p.contains("tallest")
                      ? "tallest"
                      : p.contains("shortest") ? "shortest" : "middle";
              int i = calls.computeIfAbsent(q, x -> new AtomicInteger()).getAndIncrement();
              return FakeOpenAi.Reply.text(call, "Step by step.\n" + answers.get(q).get(i % 3));
            })) {
      CliRun r =
          CliRun.of(
              prepend(
                  "generate",
                  remote(server.endpoint().toString(), run, "--what", "reasoning", "--n", "3")));
      assertEquals(0, r.exitCode(), r.toString());
      assertEquals(
          3,
          server.callsContaining("Correct answer: B: Ann").size(),
          "the teacher prompt shows the gold answer: "
              + server.calls.stream().map(FakeOpenAi.Call::key).toList());
      assertEquals(
          6,
          server.calls.stream().filter(c -> !c.key().contains("Correct answer")).count(),
          "questions without gold get the student prompt");
      List<Row> rows =
          TestSpark.session()
              .read()
              .parquet(run.resolve("reasoning").toString())
              .orderBy("question_index", "sample_index")
              .collectAsList();
      assertEquals(9, rows.size());
      Map<Integer, List<Row>> byQ = rows.stream().collect(Collectors.groupingBy(x -> x.getInt(2)));
      // Gold B: two traces agree, each with share 2/3; the C trace does not (1/3).
      assertEquals(2, byQ.get(0).stream().filter(x -> x.getBoolean(7)).count());
      for (Row x : byQ.get(0)) {
        assertEquals("B", x.getString(6));
        assertEquals(x.getString(5).equals("B") ? 2.0 / 3 : 1.0 / 3, x.getDouble(8), 1e-9);
        assertEquals(x.getString(5).equals("B"), x.getBoolean(7));
      }
      // No gold: majority A (2 of 3) agrees; C does not.
      for (Row x : byQ.get(1)) {
        assertNull(x.get(6));
        assertEquals(x.getString(5).equals("A"), x.getBoolean(7));
      }
      // No gold, a 1-1 tie and one trace without an answer: nobody agrees.
      assertTrue(byQ.get(2).stream().noneMatch(x -> x.getBoolean(7)));
      assertEquals(1, byQ.get(2).stream().filter(x -> x.isNullAt(5)).count());
      Manifest m = manifest(run, "reasoning");
      assertEquals(1, m.count("ties"));
      assertEquals(4, m.count("agreeing"));
      assertEquals(3, m.count("with_gold"));

      // only-agreeing: the same traces (nothing generated again), only the 4 agreeing kept.
      int before = server.calls.size();
      CliRun o =
          CliRun.of(
              prepend(
                  "generate",
                  remote(
                      server.endpoint().toString(),
                      run,
                      "--what",
                      "reasoning",
                      "--n",
                      "3",
                      "--only-agreeing")));
      assertEquals(0, o.exitCode(), o.toString());
      assertEquals(before, server.calls.size());
      List<Row> kept =
          TestSpark.session().read().parquet(run.resolve("reasoning").toString()).collectAsList();
      assertEquals(4, kept.size());
      assertTrue(kept.stream().allMatch(x -> x.getBoolean(7)));
      assertEquals(5, manifest(run, "reasoning").count("dropped_not_agreeing"));
    }
  }

  static String[] prepend(String first, String[] rest) {
    String[] out = new String[rest.length + 1];
    out[0] = first;
    System.arraycopy(rest, 0, out, 1, rest.length);
    return out;
  }
}
