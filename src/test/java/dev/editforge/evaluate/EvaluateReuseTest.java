package dev.editforge.evaluate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.CliRun;
import dev.editforge.TestSpark;
import dev.editforge.io.Manifest;
import dev.editforge.io.Rows;
import dev.editforge.io.Tables;
import dev.editforge.llm.TinyModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Evaluate reuse per article on a tiny model (issue 18): a rerun with one more article asks the
 * models only its questions, keeps the other answers, and writes what a from-scratch run writes.
 */
class EvaluateReuseTest {
  @TempDir static Path shared;
  static Path model;

  @BeforeAll
  static void setUp() {
    ai.djl.engine.Engine.getEngine("PyTorch");
    model = TinyModels.qwen2(shared.resolve("evaluate-reuse-model"), TinyModels.Size.TINY, 17);
  }

  static Path articles(Path dir, String name, int count) {
    List<Row> rows = new ArrayList<>();
    for (int a = 0; a < count; a++) {
      List<Row> qs = new ArrayList<>();
      for (int q = 0; q <= a % 2; q++) {
        qs.add(
            RowFactory.create(
                "q" + a + "-" + q,
                "What is thing " + a + q + "?",
                Rows.seq(List.of("thing " + q))));
      }
      rows.add(RowFactory.create("art" + a, "Title " + a, "context " + a, Rows.seq(qs)));
    }
    Path out = dir.resolve(name);
    TestSpark.session()
        .createDataFrame(rows, Tables.ARTICLES_SCHEMA)
        .coalesce(1)
        .write()
        .parquet(out.toString());
    return out;
  }

  static CliRun evaluate(Path run, Path articles, String... extra) {
    List<String> args =
        new ArrayList<>(
            List.of(
                "evaluate",
                "--model",
                model.toString(),
                "--tuned",
                model.toString(),
                "--articles",
                articles.toString(),
                "--run-dir",
                run.toString(),
                "--set",
                "judge.kind=normalized-contains",
                "--set",
                "evaluate.max-new-tokens=4"));
    args.addAll(List.of(extra));
    CliRun r = CliRun.of(args.toArray(String[]::new));
    assertEquals(0, r.exitCode(), r.toString());
    return r;
  }

  static Manifest manifest(Path run) throws Exception {
    return Manifest.parse(Files.readString(run.resolve("evaluation").resolve("_manifest.json")));
  }

  static List<Row> questions(Path run) {
    return TestSpark.session()
        .read()
        .parquet(run.resolve("evaluation/questions").toString())
        .orderBy("article_id", "question_id")
        .collectAsList();
  }

  @Test
  void aNewArticleIsTheOnlyOneAskedAndTheOutputsEqualAFromScratchRun(@TempDir Path dir)
      throws Exception {
    Path run = dir.resolve("run");
    evaluate(run, articles(dir, "two", 2));
    Manifest m = manifest(run);
    assertEquals(2, m.count("computed"));
    assertEquals(6, m.count("answers_generated"), "3 questions x 2 models");

    CliRun again = evaluate(run, articles(dir, "three", 3));
    m = manifest(run);
    assertEquals(2, m.count("reused"), m.toJson());
    assertEquals(1, m.count("computed"));
    assertEquals(0, m.count("removed"));
    assertEquals(2, m.count("answers_generated"), "art2's one question, of each model");
    assertEquals(0, m.count("rejudged"));
    assertTrue(again.out().contains("2 of 3 articles answered as before"), again.out());

    Path scratch = dir.resolve("scratch");
    evaluate(scratch, articles(dir, "three-again", 3));
    assertEquals(questions(scratch), questions(run));
    assertEquals(
        Files.readString(scratch.resolve("evaluation/summary.json"))
            .replace(dir.resolve("three-again").toString(), "ARTICLES"),
        Files.readString(run.resolve("evaluation/summary.json"))
            .replace(dir.resolve("three").toString(), "ARTICLES"));

    // Another judge: nothing is asked, every stored answer is judged again.
    CliRun judged = evaluate(run, articles(dir, "three-judge", 3), "--set", "judge.kind=exact");
    m = manifest(run);
    assertEquals(0, m.count("answers_generated"), judged.out());
    assertEquals(8, m.count("rejudged"), "4 questions x 2 models");
    assertTrue(judged.out().contains("no model is loaded"), judged.out());

    // One article fewer: its stored answers are kept, the other two disappear.
    evaluate(run, articles(dir, "one", 1), "--set", "judge.kind=exact");
    assertEquals(2, manifest(run).count("removed"));
    assertEquals(1, manifest(run).count("reused"));
    assertEquals(0, manifest(run).count("answers_generated"));
  }
}
