package dev.editforge.retrieve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.CliRun;
import dev.editforge.cli.BenchCommand;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The cheap failure paths of embed / index / retrieve / bench: refused before any work. */
class RetrievalCommandsTest {
  @TempDir Path dir;

  @Test
  void aDimensionMismatchIsRefusedBeforeEmbeddingAnything() throws Exception {
    Path tsv = dir.resolve("p.tsv");
    Files.writeString(
        tsv, "id\ttext\ttitle\n1\tSome passage text.\tA title\n2\tAnother passage.\tB\n");
    Path run = dir.resolve("run");
    assertEquals(
        0, CliRun.of("ingest", "--input", "dpr:" + tsv, "--run-dir", run.toString()).exitCode());
    CliRun r = CliRun.of("embed", "--run-dir", run.toString(), "--set", "embed.dimension=768");
    assertEquals(2, r.exitCode(), r.toString());
    assertTrue(
        r.err().contains("editforge.embed.dimension = 768") && r.err().contains("384-dimensional"),
        r.err());
    assertFalse(Files.exists(run.resolve("embeddings")), "nothing was embedded");
  }

  @Test
  void retrieveWithoutAnIndexOrQueriesSaysWhatToRun() throws Exception {
    Path run = dir.resolve("empty-run");
    Path q = dir.resolve("q.jsonl");
    Files.writeString(q, "{\"id\": \"a\", \"question\": \"what?\"}\n");
    CliRun r = CliRun.of("retrieve", "--run-dir", run.toString(), "--queries", q.toString());
    assertEquals(2, r.exitCode(), r.toString());
    assertTrue(r.err().contains("editforge index"), r.err());
    CliRun noQueries =
        CliRun.of("retrieve", "--run-dir", run.toString(), "--set", "retrieve.queries=");
    assertEquals(2, noQueries.exitCode(), noQueries.toString());
    // nothing configured is the runner's exit 2 with the stage's note, as for every stage
    assertTrue(noQueries.out().contains("--queries"), noQueries.out());
  }

  @Test
  void benchIsARegistryAndItsLastLineIsMachineReadable() {
    assertTrue(BenchCommand.benches().containsKey("retrieval"));
    CliRun r = CliRun.of("bench", "no-such-bench", "--run-dir", dir.resolve("b").toString());
    assertEquals(2, r.exitCode(), r.toString());
    assertTrue(
        r.err().contains("unknown bench no-such-bench; benches:") && r.err().contains("retrieval"),
        r.err());
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("spark_vs_bare", 0.91234567);
    f.put("bytes_fp32", 31_700_000L);
    f.put("tiny", 1e-7);
    assertEquals(
        "BENCH retrieval spark_vs_bare=0.912346 bytes_fp32=31700000 tiny=0.0000001",
        BenchCommand.benchLine("retrieval", f));
  }
}
