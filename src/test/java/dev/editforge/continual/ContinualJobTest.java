package dev.editforge.continual;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.editforge.CliRun;
import dev.editforge.SharedData;
import dev.editforge.TestSpark;
import dev.editforge.cli.ContinualCommand;
import dev.editforge.cli.Launch;
import dev.editforge.io.Manifest;
import dev.editforge.io.Rows;
import dev.editforge.io.Tables;
import dev.editforge.llm.TinyModels;
import dev.editforge.text.Json;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** {@code editforge continual} end to end on a tiny random model (local[2], CPU). */
class ContinualJobTest {
  @TempDir static Path dir;
  static Path model;

  /** Steps computed in this JVM, by "sequence/step" (the task runs in the test JVM). */
  static final List<String> COMPUTED = java.util.Collections.synchronizedList(new ArrayList<>());

  static final AtomicInteger KILL_AFTER = new AtomicInteger(-1);

  @BeforeAll
  static void setUp() {
    ai.djl.engine.Engine.getEngine("PyTorch");
    model = TinyModels.qwen2(dir.resolve("model"), TinyModels.Size.TINY, 41);
  }

  /** A run dir with a committed articles table of {@code count} articles (two questions each). */
  static Path runWithArticles(String name, int count) throws Exception {
    Path run = dir.resolve(name);
    List<Row> rows = new ArrayList<>();
    for (int a = 0; a < count; a++) {
      List<Row> qs = new ArrayList<>();
      for (int q = 0; q < 2; q++) {
        qs.add(
            RowFactory.create(
                "q" + a + "-" + q,
                "What is thing " + a + "." + q + "?",
                Rows.seq(List.of("thing " + q))));
      }
      rows.add(
          RowFactory.create(
              "art" + a, "Title " + a, "Thing " + a + " is a thing of the sample.", Rows.seq(qs)));
    }
    // one article without questions: never sampled
    rows.add(RowFactory.create("empty", "Empty", "No questions.", Rows.seq(List.of())));
    TestSpark.session()
        .createDataFrame(rows, Tables.ARTICLES_SCHEMA)
        .coalesce(1)
        .write()
        .parquet(run.resolve(Tables.ARTICLES).toString());
    Files.writeString(
        run.resolve(Tables.ARTICLES).resolve("_manifest.json"),
        Manifest.start("ingest", Tables.ARTICLES, "c", "v", "f")
            .count("output", rows.size())
            .finish(Manifest.COMPLETED)
            .toJson());
    return run;
  }

  static String[] args(Path run, String... extra) {
    return args(run, 2, 3, extra);
  }

  static String[] args(Path run, int sequences, int articles, String... extra) {
    List<String> a =
        new ArrayList<>(
            List.of(
                "continual",
                "--model",
                model.toString(),
                "--run-dir",
                run.toString(),
                "--sequences",
                String.valueOf(sequences),
                "--articles",
                String.valueOf(articles),
                "--judge",
                "token-recall",
                "--set",
                "ttt.epochs=1",
                "--set",
                "ttt.max-length=48",
                "--set",
                "ttt.pad-to=longest",
                "--set",
                "ttt.max-new-tokens=6",
                "--set",
                "ttt.lora.rank=4",
                "--set",
                "ttt.lora.alpha=8",
                "--set",
                "ttt.lr=0.05",
                "--set",
                "generate.self-edit.max-new-tokens=12"));
    a.addAll(List.of(extra));
    return a.toArray(String[]::new);
  }

  static JsonNode sealJson(Path run) throws Exception {
    return Json.MAPPER.readTree(run.resolve("continual").resolve(ContinualJob.SEAL_JSON).toFile());
  }

  @Test
  void writesSealShapedJsonTableAndMatrixThenSkipsAndAKilledRunResumesWithTheSameResult()
      throws Exception {
    Path run = runWithArticles("whole", 4);
    CliRun r = CliRun.of(args(run));
    assertEquals(0, r.exitCode(), r.toString());
    assertTrue(r.out().contains("article 3") && r.out().contains("edit 3"), r.out());
    JsonNode j = sealJson(run);
    ContinualJsonShape.assertSealShape(j, 2, 3);
    assertEquals(
        List.of(
            "mean_over_sequences",
            "std_over_sequences",
            "n_sequences",
            "n_datapoints",
            "dataset",
            "base_model"),
        ContinualJsonShape.keys(j));
    assertEquals(model.toAbsolutePath().normalize().toString(), j.get("base_model").asText());
    Path sealFile = SharedData.ROOT.resolve("data/seal/continual_overall_results.json");
    if (Files.exists(sealFile)) {
      ContinualJsonShape.assertSameShape(Json.MAPPER.readTree(sealFile.toFile()), j);
    }

    List<Row> cells =
        TestSpark.session()
            .read()
            .parquet(run.resolve("continual").toString())
            .orderBy("sequence", "step", "column")
            .collectAsList();
    assertEquals(2 * 4 * 3, cells.size(), "(3 + 1) x 3 cells per sequence");
    for (Row c : cells) {
      int step = c.getInt(c.fieldIndex("step"));
      int col = c.getInt(c.fieldIndex("column"));
      boolean measured = c.getBoolean(c.fieldIndex("measured"));
      assertEquals(step == 0 || col < step, measured, "step " + step + " column " + col);
      assertFalse(c.getString(c.fieldIndex("article_id")).equals("empty"));
      if (step > 0) {
        assertTrue(c.getString(c.fieldIndex("self_edit")) != null);
      }
    }
    JsonNode manifest = Json.MAPPER.readTree(run.resolve("continual/_manifest.json").toFile());
    assertEquals(8, manifest.get("counts").get("computed_steps").asInt());
    assertFalse(
        Files.exists(run.resolve("_work/continual")) && hasModels(run.resolve("_work/continual")),
        "no merged model is left behind without --keep-models");

    CliRun again = CliRun.of(args(run));
    assertEquals(0, again.exitCode(), again.toString());
    assertTrue(again.out().contains("up-to-date"), again.out());

    // killed after sequence 0's step 2: 3 steps committed; the rerun computes only the other 5
    Path killed = runWithArticles("killed", 4);
    COMPUTED.clear();
    KILL_AFTER.set(2);
    Exception e = runWithListener(killed);
    assertTrue(String.valueOf(e.getMessage()).contains("killed after step 2"), String.valueOf(e));
    assertEquals(List.of("0/0", "0/1", "0/2"), COMPUTED);
    assertFalse(Files.exists(killed.resolve("continual")), "nothing committed by the killed run");
    assertTrue(
        Files.exists(killed.resolve("_work/continual"))
            && hasModels(killed.resolve("_work/continual")),
        "step 2's model is kept to resume from");
    COMPUTED.clear();
    KILL_AFTER.set(-1);
    CliRun resumed = CliRun.of(args(killed));
    assertEquals(0, resumed.exitCode(), resumed.toString());
    assertTrue(resumed.out().contains("resuming: 3 of 8 steps"), resumed.out());
    JsonNode m2 = Json.MAPPER.readTree(killed.resolve("continual/_manifest.json").toFile());
    assertEquals(3, m2.get("counts").get("resumed_steps").asInt());
    assertEquals(5, m2.get("counts").get("computed_steps").asInt());
    assertEquals(
        Json.MAPPER.readTree(Json.pretty(j.get("mean_over_sequences"))),
        sealJson(killed).get("mean_over_sequences"),
        "the resumed run's matrix equals the uninterrupted run's");
    // every self-edit after step 1 was written by the previous step's merged model, so equal texts
    // show the resumed sequence continued from the same model
    assertEquals(cellStrings(run), cellStrings(killed));
    assertTrue(
        cellStrings(run).stream().map(x -> x.split("\\|", -1)[4]).distinct().count() > 2,
        "the self-edits differ between steps");
  }

  static List<String> cellStrings(Path run) {
    return TestSpark.session()
        .read()
        .parquet(run.resolve("continual").toString())
        .orderBy("sequence", "step", "column")
        .collectAsList()
        .stream()
        .map(
            c ->
                c.getInt(0)
                    + "|"
                    + c.getInt(1)
                    + "|"
                    + c.getInt(2)
                    + "|"
                    + c.getString(3)
                    + "|"
                    + c.getString(5)
                    + "|"
                    + c.getDouble(6))
        .toList();
  }

  static boolean hasModels(Path root) throws Exception {
    try (Stream<Path> s = Files.walk(root)) {
      return s.anyMatch(p -> p.getFileName().toString().equals("model.safetensors"));
    }
  }

  static ContinualCommand parse(String[] args) {
    ContinualCommand c = new ContinualCommand();
    new CommandLine(c).parseArgs(Arrays.copyOfRange(args, 1, args.length));
    return c;
  }

  static Exception runWithListener(Path run) {
    ContinualCommand c = parse(args(run));
    TestSpark.session();
    Launch launch =
        Launch.of(
            "continual",
            c.common,
            c.flagOverrides(),
            new PrintStream(new ByteArrayOutputStream(), true, StandardCharsets.UTF_8));
    return assertThrows(
        Exception.class,
        () ->
            launch
                .runner()
                .run(
                    new ContinualJob(
                        (seq, step) -> {
                          COMPUTED.add(seq + "/" + step);
                          if (seq == 0 && step == KILL_AFTER.get()) {
                            throw new IllegalStateException("killed after step " + step);
                          }
                        })));
  }

  @Test
  void refusesBadInputAtStartWithExit2NamingTheProblem() throws Exception {
    Path run = runWithArticles("bad", 2);
    CliRun tooMany = CliRun.of(args(run));
    assertEquals(2, tooMany.exitCode(), tooMany.toString());
    assertTrue(
        (tooMany.out() + tooMany.err()).contains("--articles 3 is more than the 2 articles"),
        tooMany.toString());
    CliRun zero = CliRun.of(args(run, 0, 1));
    assertEquals(2, zero.exitCode(), zero.toString());
    assertTrue(
        (zero.out() + zero.err()).contains("editforge.continual.sequences"), zero.toString());
    CliRun vllm = CliRun.of(args(run, 1, 1, "--set", "ttt.mode=vllm"));
    assertEquals(2, vllm.exitCode(), vllm.toString());
    assertTrue((vllm.out() + vllm.err()).contains("vLLM cannot merge"), vllm.toString());
    assertFalse(Files.exists(run.resolve("_work/continual")), "no work started");
  }
}
