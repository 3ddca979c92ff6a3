package dev.editforge.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigValueFactory;
import dev.editforge.config.ConfigLoader;
import dev.editforge.config.EditforgeSettings;
import dev.editforge.io.Manifest;
import dev.editforge.io.RunDir;
import dev.editforge.io.StageTables;
import dev.editforge.io.UnusableInputException;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The skeleton every stage runs on, with stages that write plain files (no Spark needed). */
class StageRunnerTest {
  @TempDir Path dir;

  private final ByteArrayOutputStream console = new ByteArrayOutputStream();

  private StageRunner runner(boolean force) {
    EditforgeSettings settings =
        EditforgeSettings.from(
            ConfigLoader.load(null, List.of())
                .withValue("editforge.run-dir", ConfigValueFactory.fromAnyRef(dir.toString())));
    RunDir run = new RunDir(dir.toString(), new Configuration());
    return StageRunner.of(
        new StageContext(
            settings, null, run, force, new PrintStream(console, true, StandardCharsets.UTF_8)));
  }

  private String console() {
    return console.toString(StandardCharsets.UTF_8);
  }

  /** A stage writing one file into table {@code t}, counting its writer calls. */
  private static class FileStage implements PipelineStage {
    final AtomicInteger writes = new AtomicInteger();
    String config = "cfg-1";
    List<String> inputs = List.of("input-a");
    List<String> requires = List.of();
    long rejected = 0;
    String failure;
    RuntimeException thrown;
    final List<String> afterCommit = new ArrayList<>();

    @Override
    public String name() {
      return "demo";
    }

    @Override
    public List<String> requires() {
      return requires;
    }

    @Override
    public StagePlan plan(StageContext context) {
      return StagePlan.of(
          StageOutput.of(
              "t",
              config,
              inputs,
              out -> {
                writes.incrementAndGet();
                Path staging = Path.of(out.path().toUri());
                Files.createDirectories(staging);
                Files.writeString(staging.resolve("rows.txt"), "r1\nr2\n");
                if (thrown != null) {
                  throw thrown;
                }
                out.manifest()
                    .count("input", 2 + rejected)
                    .count("accepted", 2)
                    .count("rejected", rejected)
                    .count("duplicates", 0)
                    .count("output", 2);
                if (failure != null) {
                  out.fail(failure);
                }
                Path committed = Path.of(context.runDir().table("t").toUri()).resolve("rows.txt");
                out.afterCommit(
                    () -> afterCommit.add(Files.exists(committed) ? "committed" : "not yet"));
              }));
    }
  }

  @Test
  void writesOnceThenSkipsUntilSomethingInTheFingerprintChanges() throws Exception {
    FileStage stage = new FileStage();
    StageOutcome first = runner(false).run(stage);
    assertEquals(0, first.exitCode());
    assertEquals(1, stage.writes.get());
    assertEquals(
        List.of("committed"), stage.afterCommit, "after-commit actions see the committed table");
    Manifest m = first.manifests().get(0);
    assertEquals(Manifest.COMPLETED, m.status());
    assertEquals("demo", m.stage());
    assertEquals(2, m.count("output"));
    assertEquals("r1\nr2\n", Files.readString(dir.resolve("t/rows.txt")));
    assertTrue(console().contains("demo: t completed: 2 rows -> "), console());
    try (var staging = Files.list(dir.resolve("_staging"))) {
      assertEquals(0, staging.count(), "nothing left in staging");
    }

    StageOutcome second = runner(false).run(stage);
    assertEquals(1, stage.writes.get(), "up to date: not written again");
    assertEquals(Manifest.SKIPPED, second.manifests().get(0).status());
    assertTrue(console().contains("demo: t skipped: up-to-date (2 rows in "), console());

    runner(true).run(stage);
    assertEquals(2, stage.writes.get(), "--force recomputes");

    String before = Manifest.parse(Files.readString(dir.resolve("t/_manifest.json"))).fingerprint();
    stage.config = "cfg-2";
    runner(false).run(stage);
    assertEquals(3, stage.writes.get(), "a changed config section reruns");
    stage.inputs = List.of("input-b");
    runner(false).run(stage);
    assertEquals(4, stage.writes.get(), "a changed input reruns");
    assertNotEquals(
        before, Manifest.parse(Files.readString(dir.resolve("t/_manifest.json"))).fingerprint());
  }

  @Test
  void aFailingWriterLeavesNeitherTableNorStaging() throws Exception {
    FileStage stage = new FileStage();
    stage.thrown = new IllegalStateException("executor lost");
    assertThrows(IllegalStateException.class, () -> runner(false).run(stage));
    assertFalse(Files.exists(dir.resolve("t")));
    try (var staging = Files.list(dir.resolve("_staging"))) {
      assertEquals(0, staging.count());
    }
    assertTrue(stage.afterCommit.isEmpty());
  }

  @Test
  void countsThatDoNotAddUpAreRefused() {
    FileStage stage =
        new FileStage() {
          @Override
          public StagePlan plan(StageContext context) {
            return StagePlan.of(
                StageOutput.of(
                    "t",
                    "c",
                    List.of(),
                    out ->
                        out.manifest()
                            .count("input", 5)
                            .count("accepted", 2)
                            .count("rejected", 1)
                            .count("duplicates", 1)));
          }
        };
    IllegalStateException e =
        assertThrows(IllegalStateException.class, () -> runner(false).run(stage));
    assertTrue(
        e.getMessage().contains("input 5 != accepted + rejected + duplicates 4"), e.getMessage());
    assertFalse(Files.exists(dir.resolve("t")));
  }

  @Test
  void aQualityFailureIsCommittedForInspectionExitsThreeAndBlocksLaterStages() throws Exception {
    FileStage stage = new FileStage();
    stage.rejected = 8;
    stage.failure = "demo: t: 8 of 10 records rejected";
    StageOutcome o = runner(false).run(stage);
    assertEquals(ExitCodes.QUALITY, o.exitCode());
    assertEquals(stage.failure, o.message());
    assertEquals(Manifest.FAILED, o.manifests().get(0).status());
    RunDir run = runner(false).context().runDir();
    assertTrue(Files.exists(dir.resolve("t/rows.txt")), "rejects and rows stay inspectable");
    assertFalse(StageTables.isUsable(run, "t"));

    runner(false).run(stage);
    assertEquals(2, stage.writes.get(), "a failed table is never up to date");

    FileStage downstream =
        new FileStage() {
          @Override
          public String name() {
            return "later";
          }
        };
    downstream.requires = List.of("t");
    UnusableInputException e =
        assertThrows(UnusableInputException.class, () -> runner(false).run(downstream));
    assertTrue(
        e.getMessage().contains("later needs table t") && e.getMessage().contains("failed"),
        e.getMessage());
  }

  @Test
  void anAbsentInputMeansNothingToDoAndAReusableConditionCanForceWork() throws Exception {
    FileStage stage = new FileStage();
    stage.requires = List.of("passages");
    StageOutcome o = runner(false).runInPipeline(stage);
    assertEquals(0, o.exitCode());
    assertEquals(0, stage.writes.get());
    assertTrue(o.message().startsWith("no passages table in "), o.message());
    assertTrue(o.message().contains("editforge ingest --input dpr:FILE"), o.message());
    // Issue 14.5: on its own (a command, a scheduled task) nothing to read is a usage error.
    StageOutcome alone = runner(false).run(stage);
    assertEquals(ExitCodes.USAGE, alone.exitCode());
    assertTrue(alone.message().contains("no passages table in "), alone.message());
    assertEquals(0, stage.writes.get());

    FileStage retried =
        new FileStage() {
          @Override
          public StagePlan plan(StageContext context) {
            StageOutput base = super.plan(context).outputs().get(0);
            return StagePlan.of(base.reusableWhen(m -> m.count("errors") == 0));
          }
        };
    runner(false).run(retried);
    RunDir run = runner(false).context().runDir();
    Manifest m = run.manifest("t").orElseThrow().count("errors", 1);
    run.writeString(new org.apache.hadoop.fs.Path(run.table("t"), RunDir.MANIFEST), m.toJson());
    runner(false).run(retried);
    assertEquals(
        2,
        retried.writes.get(),
        "an up-to-date output that fails its reuse condition is rewritten");
  }

  /**
   * One stage object for a command and a pipeline (issue 14.5): a table read only under some
   * settings, found absent by the plan, is exit 2 on its own and passed over in a pipeline, as an
   * absent requires() table is; a table that exists but did not complete fails in both.
   */
  @Test
  void aTableThePlanFindsAbsentFailsAloneAndIsPassedOverInAPipeline() throws Exception {
    FileStage stage =
        new FileStage() {
          @Override
          public StagePlan plan(StageContext context) {
            if (!StageTables.isUsable(context.runDir(), "sft")) {
              throw UnusableInputException.table(name(), context.runDir(), "sft", "select");
            }
            return super.plan(context);
          }
        };
    UnusableInputException alone =
        assertThrows(UnusableInputException.class, () -> runner(false).run(stage));
    assertTrue(alone.getMessage().contains("demo needs table sft"), alone.getMessage());
    StageOutcome passed = runner(false).runInPipeline(stage);
    assertEquals(0, passed.exitCode());
    assertFalse(passed.hasOutputs());
    assertTrue(passed.message().contains("run `select` first"), passed.message());
    assertEquals(0, stage.writes.get());

    RunDir run = runner(false).context().runDir();
    Manifest failed = Manifest.start("select", "sft", "c", "v", "f");
    failed.finish(Manifest.FAILED);
    run.writeString(
        new org.apache.hadoop.fs.Path(run.table("sft"), RunDir.MANIFEST), failed.toJson());
    UnusableInputException notCompleted =
        assertThrows(UnusableInputException.class, () -> runner(false).runInPipeline(stage));
    assertTrue(notCompleted.getMessage().contains("failed"), notCompleted.getMessage());
    assertEquals(0, stage.writes.get());
  }
}
