package dev.editforge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.CliRun;
import dev.editforge.TestSpark;
import dev.editforge.io.Manifest;
import dev.editforge.io.TableFiles;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Tables changed behind the manifest's back, and tables another writer holds, through the real
 * command line: each is exit 2 with one line naming the table and the file (or the holder), before
 * any work.
 */
class TamperedTablesTest {
  static final Path SAMPLE = Paths.get("src", "main", "resources", "editforge", "sample");

  @TempDir Path dir;

  static List<Path> parts(Path table) throws IOException {
    try (Stream<Path> s = Files.list(table)) {
      return s.filter(p -> p.getFileName().toString().startsWith("part-")).sorted().toList();
    }
  }

  private static String errLine(CliRun r) {
    String err = r.err().strip();
    assertFalse(err.contains("\n"), "one line: " + err);
    return err;
  }

  @Test
  void aDeletedPartOfArticlesStopsRetrieveBeforeAnyQueryRuns() throws Exception {
    String run = dir.resolve("run").toString();
    // Adaptive execution would coalesce 15 sorted articles into one part; the point is a table
    // of several parts, one of which goes missing.
    String coalesce = "spark.sql.adaptive.coalescePartitions.enabled";
    String before = TestSpark.session().conf().get(coalesce, "true");
    TestSpark.session().conf().set(coalesce, "false");
    CliRun squad;
    try {
      squad =
          CliRun.of(
              "ingest", "--input", "squad:" + SAMPLE.resolve("articles.json"), "--run-dir", run);
    } finally {
      TestSpark.session().conf().set(coalesce, before);
    }
    assertEquals(0, squad.exitCode(), squad.toString());
    Path articles = dir.resolve("run/articles");
    Manifest m = Manifest.parse(Files.readString(articles.resolve("_manifest.json")));
    Map<String, Number> files = TableFiles.files(m);
    List<Path> parts = parts(articles);
    assertEquals(parts.size(), files.size(), "every part recorded: " + files);
    assertEquals(
        TestSpark.session().read().parquet(articles.toString()).count(),
        ((Number) m.get(TableFiles.ROWS)).longValue());
    assertTrue(parts.size() >= 2, "needs a table of several parts: " + parts);

    CliRun passages =
        CliRun.of("ingest", "--input", "dpr:" + SAMPLE.resolve("passages.tsv"), "--run-dir", run);
    assertEquals(0, passages.exitCode(), passages.toString());
    CliRun index = CliRun.of("index", "--run-dir", run, "--set", "index.vectors=false");
    assertEquals(0, index.exitCode(), index.toString());

    Path gone = parts.get(parts.size() - 1);
    byte[] saved = Files.readAllBytes(gone);
    Files.delete(gone);
    CliRun retrieve =
        CliRun.of("retrieve", "--queries", "articles", "--mode", "bm25", "--run-dir", run);
    assertEquals(2, retrieve.exitCode(), retrieve.toString());
    String err = errLine(retrieve);
    assertTrue(err.contains("table articles"), err);
    assertTrue(err.contains(gone.getFileName() + " is missing"), err);
    assertFalse(Files.exists(dir.resolve("run/retrievals")), "no work was done");

    // A file that is not in the manifest is refused as well.
    Files.copy(parts.get(0), gone.resolveSibling("part-99999-extra.snappy.parquet"));
    Files.write(gone, saved);
    CliRun extra =
        CliRun.of("retrieve", "--queries", "articles", "--mode", "bm25", "--run-dir", run);
    assertEquals(2, extra.exitCode(), extra.toString());
    assertTrue(
        errLine(extra).contains("part-99999-extra.snappy.parquet is not listed"), extra.err());
  }

  @Test
  void aTruncatedCommittedParquetFileIsExitTwoNamingTheFile() throws Exception {
    String run = dir.resolve("run").toString();
    CliRun ingest =
        CliRun.of("ingest", "--input", "dpr:" + SAMPLE.resolve("passages.tsv"), "--run-dir", run);
    assertEquals(0, ingest.exitCode(), ingest.toString());
    Path part = parts(dir.resolve("run/passages")).get(0);
    try (RandomAccessFile f = new RandomAccessFile(part.toFile(), "rw")) {
      f.setLength(f.length() / 2);
    }
    CliRun index = CliRun.of("index", "--run-dir", run, "--set", "index.vectors=false");
    assertEquals(2, index.exitCode(), index.toString());
    String err = errLine(index);
    assertTrue(err.contains("table passages"), err);
    assertTrue(err.contains(part.getFileName().toString()), err);
    assertFalse(Files.exists(dir.resolve("run/index")), "no work was done");
  }

  @Test
  void aManifestWithoutAFileListIsCheckedByItsParquetFooters() throws Exception {
    String run = dir.resolve("run").toString();
    CliRun ingest =
        CliRun.of("ingest", "--input", "dpr:" + SAMPLE.resolve("passages.tsv"), "--run-dir", run);
    assertEquals(0, ingest.exitCode(), ingest.toString());
    Path table = dir.resolve("run/passages");
    Path manifest = table.resolve("_manifest.json");
    Manifest m = Manifest.parse(Files.readString(manifest));
    m.put(TableFiles.FILES, null).put(TableFiles.ROWS, null);
    Files.writeString(manifest, m.toJson());
    // Edited behind Hadoop's back: its checksum file would now refuse the manifest itself.
    Files.deleteIfExists(table.resolve("._manifest.json.crc"));

    String out = dir.resolve("export").toString();
    CliRun export = CliRun.of("export", "--table", "passages", "--out", out, "--run-dir", run);
    assertEquals(0, export.exitCode(), "an intact old table is still read: " + export);

    Path part = parts(table).get(0);
    Files.write(part, new byte[] {'n', 'o', 't'});
    CliRun broken = CliRun.of("export", "--table", "passages", "--out", out, "--run-dir", run);
    assertEquals(2, broken.exitCode(), broken.toString());
    assertTrue(
        errLine(broken).contains(part.getFileName() + " is not readable Parquet"), broken.err());
  }

  @Test
  void aHeldTableLockIsExitTwoNamingTheHolderAndOnlyAStaleOneCanBeBroken() throws Exception {
    String run = dir.resolve("run").toString();
    Path lock = dir.resolve("run/_locks/passages.lock");
    Files.createDirectories(lock.getParent());
    Files.writeString(lock, lockBy(Instant.now()));
    String[] ingest = {
      "ingest", "--input", "dpr:" + SAMPLE.resolve("passages.tsv"), "--run-dir", run
    };

    CliRun held = CliRun.of(ingest);
    assertEquals(2, held.exitCode(), held.toString());
    String err = errLine(held);
    assertTrue(err.contains("table passages"), err);
    assertTrue(err.contains("host node-7, pid 4242, since "), err);
    assertTrue(err.contains("--break-lock"), err);
    assertFalse(Files.exists(dir.resolve("run/passages")));

    CliRun young = CliRun.of(concat(ingest, "--break-lock"));
    assertEquals(2, young.exitCode(), "a lock younger than the timeout stays: " + young);
    assertTrue(Files.exists(lock));

    Files.writeString(lock, lockBy(Instant.now().minus(Duration.ofHours(2))));
    CliRun broken = CliRun.of(concat(ingest, "--break-lock", "--set", "run.lock-timeout=1h"));
    assertEquals(0, broken.exitCode(), broken.toString());
    assertTrue(Files.exists(dir.resolve("run/passages/_manifest.json")));
    assertFalse(Files.exists(lock), "released after the commit");
  }

  /** A lock file as another process on another host would have written it. */
  private static String lockBy(Instant startedAt) {
    return "{\"host\":\"node-7\",\"pid\":4242,\"started_at\":\""
        + startedAt
        + "\",\"command\":\"ingest (ingest)\",\"token\":\"t-1\"}";
  }

  private static String[] concat(String[] a, String... b) {
    return Stream.concat(Stream.of(a), Stream.of(b)).toArray(String[]::new);
  }
}
