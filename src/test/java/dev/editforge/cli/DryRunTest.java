package dev.editforge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.CliRun;
import dev.editforge.Main;
import dev.editforge.TestSpark;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;
import org.apache.spark.scheduler.SparkListener;
import org.apache.spark.scheduler.SparkListenerJobStart;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

/** Issue 14 items 4 and 5: --dry-run plans without running or writing; no inputs is exit 2. */
class DryRunTest {
  private static final String SAMPLE = "src/main/resources/editforge/sample/";
  private static final String ARTICLES = "squad:" + SAMPLE + "articles.json";
  private static final String PASSAGES = "dpr:" + SAMPLE + "passages.tsv";

  @TempDir Path dir;

  /** Counts Spark jobs started while a dry run runs; there must be none. */
  private static final class JobCounter extends SparkListener {
    final AtomicInteger jobs = new AtomicInteger();

    @Override
    public void onJobStart(SparkListenerJobStart jobStart) {
      jobs.incrementAndGet();
    }
  }

  private static CliRun withoutSparkJobs(String... args) throws Exception {
    JobCounter counter = new JobCounter();
    var sc = TestSpark.session().sparkContext();
    sc.addSparkListener(counter);
    try {
      CliRun r = CliRun.of(args);
      // the listener bus is asynchronous: let it deliver what was posted during the command
      sc.listenerBus().waitUntilEmpty();
      assertEquals(0, counter.jobs.get(), "a dry run started Spark jobs:\n" + r);
      return r;
    } finally {
      sc.removeSparkListener(counter);
    }
  }

  private static Map<String, Long> snapshot(Path root) throws IOException {
    Map<String, Long> files = new TreeMap<>();
    if (!Files.exists(root)) {
      return files;
    }
    try (Stream<Path> s = Files.walk(root)) {
      for (Path p : s.toList()) {
        files.put(
            root.relativize(p).toString(),
            Files.isRegularFile(p) ? Files.size(p) + Files.getLastModifiedTime(p).toMillis() : -1L);
      }
    }
    return files;
  }

  @Test
  void everyCommandThatReadsTheConfigAcceptsDryRun() {
    CommandLine main = new CommandLine(new Main());
    List<String> without =
        main.getSubcommands().entrySet().stream()
            .filter(e -> !e.getKey().equals("help"))
            .filter(e -> e.getValue().getCommandSpec().findOption("--dry-run") == null)
            .map(Map.Entry::getKey)
            .toList();
    assertEquals(List.of(), without, "commands without --dry-run");
    assertTrue(main.getSubcommands().containsKey("ingest"));
  }

  @Test
  void ingestDryRunChecksTheInputsAndLeavesTheRunDirUntouched() throws Exception {
    Path run = dir.resolve("run");
    CliRun r =
        withoutSparkJobs("ingest", "--dry-run", "--run-dir", run.toString(), "--input", ARTICLES);
    assertEquals(0, r.exitCode(), r.toString());
    assertTrue(r.out().contains("ingest: articles: to write"), r.out());
    assertFalse(Files.exists(run), "a dry run creates nothing, not even the run dir");

    // After a real ingest the same dry run says up to date, and changes nothing.
    assertEquals(
        0, CliRun.of("ingest", "--run-dir", run.toString(), "--input", ARTICLES).exitCode());
    Map<String, Long> before = snapshot(run);
    CliRun again =
        withoutSparkJobs("ingest", "--dry-run", "--run-dir", run.toString(), "--input", ARTICLES);
    assertEquals(0, again.exitCode(), again.toString());
    assertTrue(again.out().contains("ingest: articles: up to date"), again.out());
    assertEquals(before, snapshot(run), "no manifest, lock or _runs record changed");
  }

  @Test
  void aMissingOrWrongInputIsExitTwo() {
    Path run = dir.resolve("run");
    CliRun missing =
        CliRun.of(
            "ingest", "--dry-run", "--run-dir", run.toString(), "--input", "squad:no/such.json");
    assertEquals(2, missing.exitCode(), missing.toString());
    assertTrue(missing.err().contains("no/such.json"), missing.toString());
    assertFalse(Files.exists(run));
  }

  @Test
  void runDryRunAfterIngestShowsIngestUpToDateAndLaterStagesToRun() throws Exception {
    Path run = dir.resolve("run");
    String[] inputs = {"--input", ARTICLES, "--input", PASSAGES};
    CliRun ingest = CliRun.of(concat(new String[] {"ingest", "--run-dir", run.toString()}, inputs));
    assertEquals(0, ingest.exitCode(), ingest.toString());
    CliRun r =
        withoutSparkJobs(
            concat(new String[] {"run", "--dry-run", "--run-dir", run.toString()}, inputs));
    assertEquals(0, r.exitCode(), r.toString());
    assertTrue(r.out().contains("ingest: articles: up to date"), r.out());
    assertTrue(r.out().contains("ingest: passages: up to date"), r.out());
    assertTrue(r.out().contains("embed: embeddings: to write"), r.out());
    assertTrue(r.out().contains("index: to run after the stages above"), r.out());
  }

  @Test
  void generateDryRunRefusesAModelWithoutSafetensors() throws IOException {
    Path model = Files.createDirectories(dir.resolve("model"));
    Files.writeString(model.resolve("config.json"), "{}");
    CliRun r =
        CliRun.of(
            "generate",
            "--dry-run",
            "--run-dir",
            dir.resolve("run").toString(),
            "--model",
            model.toString());
    assertEquals(2, r.exitCode(), r.toString());
    assertTrue(r.err().contains("has no *.safetensors weights"), r.toString());
    assertFalse(Files.exists(dir.resolve("run")));

    // With weights the model passes; the stage then waits for the articles ingest will write.
    Files.writeString(model.resolve("model.safetensors"), "");
    CliRun ok =
        CliRun.of(
            "generate",
            "--dry-run",
            "--run-dir",
            dir.resolve("run").toString(),
            "--model",
            model.toString());
    assertEquals(0, ok.exitCode(), ok.toString());
    assertTrue(ok.out().contains("generate: waits for its input: no articles table"), ok.out());
    assertFalse(Files.exists(dir.resolve("run")));
  }

  @Test
  void scheduledRunsWithoutInputsFailLoudly() {
    CliRun ingest = CliRun.of("ingest", "--run-dir", dir.resolve("a").toString());
    assertEquals(2, ingest.exitCode(), ingest.toString());
    assertTrue(ingest.out().contains("ingest: no inputs"), ingest.toString());

    CliRun run = CliRun.of("run", "--run-dir", dir.resolve("b").toString());
    assertEquals(2, run.exitCode(), run.toString());
    assertTrue(run.out().contains("run: nothing configured"), run.toString());

    CliRun dry = CliRun.of("run", "--dry-run", "--run-dir", dir.resolve("c").toString());
    assertEquals(2, dry.exitCode(), dry.toString());
    CliRun dryIngest = CliRun.of("ingest", "--dry-run", "--run-dir", dir.resolve("c").toString());
    assertEquals(2, dryIngest.exitCode(), dryIngest.toString());

    // A dry run of a later task before its upstream task ran (a scheduler checking every task):
    // it waits for the table, exit 0; the real run refuses it.
    CliRun dryEmbed = CliRun.of("embed", "--dry-run", "--run-dir", dir.resolve("d").toString());
    assertEquals(0, dryEmbed.exitCode(), dryEmbed.toString());
    assertTrue(
        dryEmbed.out().contains("embed: waits for its input: no passages table"), dryEmbed.out());
    CliRun dryIndex = CliRun.of("index", "--dry-run", "--run-dir", dir.resolve("d").toString());
    assertEquals(0, dryIndex.exitCode(), dryIndex.toString());
    assertTrue(dryIndex.out().contains("index: waits for its input: "), dryIndex.out());
    assertFalse(Files.exists(dir.resolve("d")));

    // A stage run on its own whose input table no stage wrote: exit 2, naming what to run.
    CliRun embed = CliRun.of("embed", "--run-dir", dir.resolve("d").toString());
    assertEquals(2, embed.exitCode(), embed.toString());
    assertTrue(embed.out().contains("run `"), embed.toString());
  }

  private static String[] concat(String[] a, String[] b) {
    return Stream.concat(Stream.of(a), Stream.of(b)).toArray(String[]::new);
  }
}
