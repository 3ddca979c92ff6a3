package dev.editforge.index;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.CliRun;
import dev.editforge.SharedData;
import dev.editforge.io.Manifest;
import dev.editforge.io.RowReuse;
import dev.editforge.retrieve.QueryReader;
import java.nio.file.Path;
import java.nio.file.Paths;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 18's embed and index "done when": add 10 passages and change 5, rerun embed and index in
 * place, and get what a from-scratch run of the final corpus gets. On the bundled sample (always)
 * and on the 751-passage DPR sample with its NQ questions (when ../shared is there).
 */
class IncrementalRebuildTest {
  static final Path SAMPLE = Paths.get("src", "main", "resources", "editforge", "sample");

  /**
   * Passages cut at 64 tokens: a quarter of the encoding work of a full DPR passage, and the reuse
   * logic does not care how long a vector's text was.
   */
  static final String[] SHORT = {"--set", "embed.max-length=64"};

  @Test
  void bundledSampleRerunReusesUnchangedPassagesAndMatchesAFreshRun(@TempDir Path dir)
      throws Exception {
    List<IncrementalRebuild.Passage> all =
        IncrementalRebuild.readTsv(SAMPLE.resolve("passages.tsv"));
    assertEquals(163, all.size());
    scenario(dir, all, queries(SAMPLE.resolve("queries.jsonl")), 148);
  }

  @Test
  void forceReencodesEverythingAndRebuildBuildsEveryShard(@TempDir Path dir) throws Exception {
    List<IncrementalRebuild.Passage> all =
        IncrementalRebuild.readTsv(SAMPLE.resolve("passages.tsv")).subList(0, 6);
    Path tsv = IncrementalRebuild.writeTsv(dir.resolve("six.tsv"), all);
    String run = dir.resolve("run").toString();
    IncrementalRebuild.ok("ingest", "--input", "dpr:" + tsv, "--run-dir", run);
    IncrementalRebuild.ok("embed", "--run-dir", run, SHORT[0], SHORT[1]);
    IncrementalRebuild.ok("embed", "--run-dir", run, SHORT[0], SHORT[1], "--force");
    Manifest forced = IncrementalRebuild.manifest(Path.of(run, "embeddings"));
    assertEquals(0, forced.count(RowReuse.REUSED));
    assertEquals(6, forced.count(RowReuse.COMPUTED));

    IncrementalRebuild.ok("index", "--run-dir", run, "--set", "index.shards=2");
    CliRun skipped = IncrementalRebuild.ok("index", "--run-dir", run, "--set", "index.shards=2");
    assertTrue(skipped.out().contains("skipped: up-to-date"), skipped.out());
    CliRun rebuilt =
        IncrementalRebuild.ok("index", "--run-dir", run, "--set", "index.shards=2", "--rebuild");
    assertTrue(rebuilt.out().contains("full build (--rebuild)"), rebuilt.out());
    Manifest m = IncrementalRebuild.manifest(Path.of(run, "index"));
    assertEquals("full", m.get("build"));
    assertEquals("--rebuild", m.get("full_build_reason"));
    assertEquals(6, m.count("output"));
    // Another shard count cannot be updated in place.
    IncrementalRebuild.ok("index", "--run-dir", run, "--set", "index.shards=3");
    assertEquals("full", IncrementalRebuild.manifest(Path.of(run, "index")).get("build"));
  }

  @Test
  void dprSampleRerunEncodesOnly15PassagesAndMatchesAFreshRun(@TempDir Path dir) throws Exception {
    Path dpr = SharedData.require("data/dpr");
    List<IncrementalRebuild.Passage> all =
        IncrementalRebuild.readTsv(dpr.resolve("psgs_w100_sample.tsv"));
    // The sample is 751 passages: 746 unchanged, 5 changed, 10 new after the edit.
    assertEquals(751, all.size());
    List<IncrementalRebuild.Passage> grown = new java.util.ArrayList<>(all);
    for (int i = 0; i < 10; i++) {
      IncrementalRebuild.Passage p = all.get(i * 70);
      grown.add(
          new IncrementalRebuild.Passage(
              "new-" + i, p.text() + " (a new passage, number " + i + ")", p.title()));
    }
    scenario(dir, grown, queries(dpr.resolve("nq_dev_sample.json")), 746);
  }

  private static List<String> queries(Path file) throws Exception {
    return QueryReader.read(file).queries().stream().map(QueryReader.Query::text).toList();
  }

  /** Runs the scenario over {@code all}, whose last 10 passages are the ones added. */
  private static void scenario(
      Path dir, List<IncrementalRebuild.Passage> all, List<String> queries, int reused)
      throws Exception {
    List<List<IncrementalRebuild.Passage>> ba = IncrementalRebuild.beforeAndAfter(all);
    Path before = IncrementalRebuild.writeTsv(dir.resolve("before.tsv"), ba.get(0));
    Path after = IncrementalRebuild.writeTsv(dir.resolve("after.tsv"), ba.get(1));
    String a = dir.resolve("incremental").toString();
    String b = dir.resolve("scratch").toString();
    String[] shards = {"--set", "index.shards=3"};

    IncrementalRebuild.ok("ingest", "--input", "dpr:" + before, "--run-dir", a);
    IncrementalRebuild.ok("embed", "--run-dir", a, SHORT[0], SHORT[1]);
    IncrementalRebuild.ok("index", "--run-dir", a, shards[0], shards[1]);

    IncrementalRebuild.ok("ingest", "--input", "dpr:" + after, "--run-dir", a);
    IncrementalRebuild.ok("embed", "--run-dir", a, SHORT[0], SHORT[1]);
    Manifest em = IncrementalRebuild.manifest(Path.of(a, "embeddings"));
    assertEquals(reused, em.count(RowReuse.REUSED), em.counts().toString());
    assertEquals(15, em.count(RowReuse.COMPUTED), em.counts().toString());
    assertEquals(5, em.count(RowReuse.REMOVED), em.counts().toString());
    assertEquals(all.size(), em.count("output"));
    IncrementalRebuild.ok("index", "--run-dir", a, shards[0], shards[1]);
    Manifest im = IncrementalRebuild.manifest(Path.of(a, "index"));
    assertEquals("incremental", im.get("build"), im.toJson());
    assertEquals(reused, im.count(RowReuse.REUSED));
    assertEquals(15, im.count(RowReuse.COMPUTED));
    assertEquals(5, im.count(RowReuse.REMOVED));
    assertEquals(all.size(), im.count("output"));

    IncrementalRebuild.ok("ingest", "--input", "dpr:" + after, "--run-dir", b);
    IncrementalRebuild.ok("embed", "--run-dir", b, SHORT[0], SHORT[1]);
    IncrementalRebuild.ok("index", "--run-dir", b, shards[0], shards[1]);
    assertEquals("full", IncrementalRebuild.manifest(Path.of(b, "index")).get("build"));
    assertEquals(
        all.size(), IncrementalRebuild.manifest(Path.of(b, "embeddings")).count("computed"));

    IncrementalRebuild.assertSameEmbeddings(Path.of(a, "embeddings"), Path.of(b, "embeddings"));
    IncrementalRebuild.assertShardVectorsMatch(
        Path.of(a, "index"), 3, IncrementalRebuild.embeddings(Path.of(b, "embeddings")));
    IncrementalRebuild.assertSameRankings(Path.of(a, "index"), Path.of(b, "index"), queries);
    assertTrue(
        dev.editforge.lucene.IndexManifest.read(Path.of(a, "index"))
            .verify(Path.of(a, "index"))
            .isEmpty());
  }
}
