package dev.editforge.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertInstanceOf;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigValueFactory;
import dev.editforge.config.ConfigLoader;
import dev.editforge.config.EditforgeSettings;
import dev.editforge.io.Manifest;
import dev.editforge.io.RunDir;
import dev.editforge.io.TableConflictException;
import java.io.OutputStream;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorCompletionService;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Writers of one run directory at the same time, each with its own runner as separate commands
 * would have (writers that block on a latch, no Spark): one writer per table, the others refused at
 * once naming the holder; and what killed writers left behind is removed under the lock.
 */
class ConcurrentWritersTest {
  @TempDir Path dir;

  private final ExecutorService pool = Executors.newFixedThreadPool(3);

  @AfterEach
  void stop() {
    pool.shutdownNow();
  }

  private StageRunner runner() {
    EditforgeSettings settings =
        EditforgeSettings.from(
            ConfigLoader.load(null, List.of())
                .withValue("editforge.run-dir", ConfigValueFactory.fromAnyRef(dir.toString())));
    return new StageRunner(
        new StageContext(
            settings,
            null,
            new RunDir(dir.toString(), new Configuration()),
            false,
            new PrintStream(OutputStream.nullOutputStream())),
        new RunRecord("test", settings));
  }

  /** Writes one file into {@code table}, after announcing itself and waiting for {@code go}. */
  private static PipelineStage writer(String table, CountDownLatch inside, CountDownLatch go) {
    return new PipelineStage() {
      @Override
      public String name() {
        return "write-" + table;
      }

      @Override
      public StagePlan plan(StageContext context) {
        return StagePlan.of(
            StageOutput.of(
                table,
                "cfg",
                List.of(),
                out -> {
                  inside.countDown();
                  assertTrue(go.await(60, TimeUnit.SECONDS), "released");
                  Path staging = Path.of(out.path().toUri());
                  Files.createDirectories(staging);
                  Files.writeString(staging.resolve("rows.txt"), Thread.currentThread().getName());
                  out.manifest().count("output", 1);
                }));
      }
    };
  }

  /** Runs a stage; its outcome, or what it threw. */
  private Callable<Object> attempt(CyclicBarrier start, PipelineStage stage) {
    return () -> {
      StageRunner r = runner();
      start.await(60, TimeUnit.SECONDS);
      try {
        return r.run(stage);
      } catch (Exception e) {
        return e;
      }
    };
  }

  @Test
  void twoWritersOfOneTableAndOneOfAnother() throws Exception {
    CountDownLatch inside = new CountDownLatch(1);
    CountDownLatch go = new CountDownLatch(1);
    CyclicBarrier start = new CyclicBarrier(2);
    ExecutorCompletionService<Object> done = new ExecutorCompletionService<>(pool);
    Future<Object> a = done.submit(attempt(start, writer("t", inside, go)));
    Future<Object> b = done.submit(attempt(start, writer("t", inside, go)));

    // The loser fails at once, while the winner is still inside its writer holding the lock.
    Future<Object> first = done.poll(60, TimeUnit.SECONDS);
    assertNotNull(first, "one writer of t was refused without waiting for the other");
    assertTrue(inside.await(60, TimeUnit.SECONDS));
    TableConflictException refused = assertInstanceOf(TableConflictException.class, first.get());
    String m = refused.getMessage();
    assertTrue(m.contains("table t in "), m);
    assertTrue(m.contains("pid " + ProcessHandle.current().pid() + ", since "), m);
    assertTrue(m.contains("command test (write-t)"), m);
    assertFalse(Files.exists(dir.resolve("t")), "nothing committed yet");

    // A writer of another table is not held up by t's lock.
    CountDownLatch open = new CountDownLatch(0);
    StageOutcome u = runner().run(writer("u", new CountDownLatch(1), open));
    assertEquals(0, u.exitCode());
    assertEquals(Manifest.COMPLETED, u.manifests().get(0).status());

    go.countDown();
    Future<Object> second = done.poll(60, TimeUnit.SECONDS);
    assertNotNull(second);
    StageOutcome winner = assertInstanceOf(StageOutcome.class, second.get());
    assertEquals(0, winner.exitCode());
    assertEquals(Manifest.COMPLETED, winner.manifests().get(0).status());
    assertTrue(a.isDone() && b.isDone());
    assertTrue(Files.isRegularFile(dir.resolve("t/rows.txt")));
    try (var locks = Files.list(dir.resolve("_locks"))) {
      assertEquals(List.of(), locks.toList(), "every lock released");
    }
  }

  @Test
  void whatAKilledWriterLeftInStagingIsRemovedAndRecorded() throws Exception {
    Path stale = dir.resolve("_staging/t-0f8fad5b-d9cb-469f-a165-70867728950e");
    Path otherTable = dir.resolve("_staging/u-7c9e6679-7425-40de-944b-e07fc1f90ae7");
    for (Path p : List.of(stale, otherTable)) {
      Files.createDirectories(p);
      Files.writeString(p.resolve("part-00000.parquet"), "half");
    }
    StageRunner r = runner();
    CountDownLatch open = new CountDownLatch(0);
    StageOutcome o = r.run(writer("t", new CountDownLatch(1), open));
    assertEquals(0, o.exitCode());

    assertFalse(Files.exists(stale));
    assertTrue(Files.exists(otherTable), "another table's staging is left to its writer");
    Map<String, Object> entry = r.record().stages().get(0);
    List<?> removed = (List<?>) entry.get(StageRunner.LEFTOVERS_REMOVED);
    assertEquals(1, removed.size(), entry.toString());
    assertTrue(
        String.valueOf(removed.get(0)).endsWith(stale.getFileName().toString()), entry.toString());
    assertEquals(removed, o.manifests().get(0).get(StageRunner.LEFTOVERS_REMOVED));
  }
}
