package dev.editforge.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.CliRun;
import dev.editforge.TestSpark;
import dev.editforge.io.Manifest;
import dev.editforge.llm.TinyModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Reasoning reuse per (question, sample) on a tiny local model (issue 18): a rerun after problems
 * were added or removed generates only the new questions' traces and writes the table a
 * from-scratch run writes; the manifest counts reused, computed and removed traces.
 */
class ReasoningReuseTest {
  @TempDir static Path shared;
  static Path model;
  static List<String> problems;

  @BeforeAll
  static void setUp() throws Exception {
    model =
        TinyModels.write(
            shared.resolve("reasoning-reuse-decoder"),
            TinyModels.Family.QWEN2,
            TinyModels.config(TinyModels.Family.QWEN2, TinyModels.Size.TINY)
                .withMaxPositionEmbeddings(1024),
            11);
    problems = Files.readAllLines(Path.of("src/main/resources/editforge/sample/logic.jsonl"));
  }

  static Path input(Path dir, String name, int from, int to) throws Exception {
    Path f = dir.resolve(name + ".jsonl");
    Files.write(f, problems.subList(from, to));
    return f;
  }

  static void ingest(Path run, Path input) {
    CliRun r = CliRun.of("ingest", "--input", "logic:" + input, "--run-dir", run.toString());
    assertEquals(0, r.exitCode(), r.toString());
  }

  static CliRun reasoning(Path run, String... extra) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "generate",
                "--what",
                "reasoning",
                "--model",
                model.toString(),
                "--n",
                "2",
                "--run-dir",
                run.toString(),
                "--set",
                "generate.reasoning.max-new-tokens=2"));
    args.addAll(List.of(extra));
    CliRun r = CliRun.of(args.toArray(String[]::new));
    assertEquals(0, r.exitCode(), r.toString());
    return r;
  }

  static List<Row> traces(Path run) {
    return TestSpark.session()
        .read()
        .parquet(run.resolve("reasoning").toString())
        .orderBy("problem_id", "question_index", "sample_index")
        .collectAsList();
  }

  static Manifest manifest(Path run) throws Exception {
    return Manifest.parse(Files.readString(run.resolve("reasoning").resolve("_manifest.json")));
  }

  static long questions(Path run) {
    return TestSpark.session()
        .read()
        .parquet(run.resolve("problems").toString())
        .selectExpr("sum(size(questions))")
        .first()
        .getLong(0);
  }

  @Test
  void addedProblemsAreGeneratedAloneAndRemovedOnesDisappear(@TempDir Path dir) throws Exception {
    Path run = dir.resolve("run");
    ingest(run, input(dir, "first3", 0, 3));
    reasoning(run);
    long first = questions(run) * 2;
    Manifest m = manifest(run);
    assertEquals(first, m.count("computed"));
    assertEquals(0, m.count("reused"));

    ingest(run, input(dir, "first4", 0, 4));
    long all4 = questions(run) * 2;
    reasoning(run);
    m = manifest(run);
    assertEquals(first, m.count("reused"), m.toJson());
    assertEquals(all4 - first, m.count("computed"), "only the new problem's traces");
    assertEquals(0, m.count("removed"));

    Path scratch = dir.resolve("scratch");
    ingest(scratch, input(dir, "first4-again", 0, 4));
    reasoning(scratch);
    assertEquals(all4, manifest(scratch).count("computed"));
    assertEquals(traces(scratch), traces(run), "trace for trace, votes included");

    // Problem 1 removed: its traces disappear, nothing is generated.
    ingest(run, input(dir, "last3", 1, 4));
    long last3 = questions(run) * 2;
    reasoning(run);
    m = manifest(run);
    assertEquals(last3, m.count("reused"));
    assertEquals(0, m.count("computed"));
    assertEquals(all4 - last3, m.count("removed"));
    assertEquals(last3, traces(run).size());

    // --force generates every trace again.
    CliRun forced = reasoning(run, "--force");
    assertTrue(forced.exitCode() == 0);
    m = manifest(run);
    assertEquals(0, m.count("reused"));
    assertEquals(last3, m.count("computed"));
  }
}
