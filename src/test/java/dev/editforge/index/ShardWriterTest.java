package dev.editforge.index;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.config.IndexSettings;
import dev.editforge.encoders.VectorSimilarity;
import dev.editforge.lucene.IndexManifest;
import dev.editforge.lucene.IndexVerificationException;
import dev.editforge.lucene.TextAnalyzer;
import dev.editforge.lucene.VectorQuantization;
import java.io.IOException;
import java.io.RandomAccessFile;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShardWriterTest {
  static final EncoderInfo ENC =
      new EncoderInfo("test-model", "minilm", 16, VectorSimilarity.COSINE);

  static IndexManifest build(Path dir, IndexSettings s, List<IndexedPassage> passages) {
    try (IndexBuilder b = new IndexBuilder(dir, s, ENC)) {
      passages.forEach(b::add);
      return b.finish();
    }
  }

  /**
   * An appended shard with a deletion and a replacement holds what a fresh shard of the same
   * passages holds, with the same BM25 statistics: deleted documents are merged away.
   */
  @Test
  void appendDeletesAndAddsLikeAFreshShardWithExactBm25Stats(@TempDir Path dir) throws IOException {
    List<IndexedPassage> ps = TestCorpus.passages(40, 16, true, 5);
    IndexSettings s = IndexSettings.defaults(1);
    ShardWriter.VectorSpec spec = new ShardWriter.VectorSpec(16, VectorSimilarity.COSINE);
    Path appended = dir.resolve("appended");
    try (ShardWriter w = new ShardWriter(appended, s, spec)) {
      ps.subList(0, 30).forEach(w::add);
      w.finish();
    }
    ShardWriter.ShardStats st;
    try (ShardWriter w = ShardWriter.append(appended, s, spec)) {
      ps.subList(0, 5).forEach(p -> w.delete(p.passageId()));
      ps.subList(30, 40).forEach(w::add);
      st = w.finish();
    }
    assertEquals(35, st.docs());
    Path fresh = dir.resolve("fresh");
    try (ShardWriter w = new ShardWriter(fresh, s, spec)) {
      ps.subList(5, 40).forEach(w::add);
      w.finish();
    }
    try (var da = org.apache.lucene.store.FSDirectory.open(appended);
        var ra = org.apache.lucene.index.DirectoryReader.open(da);
        var df = org.apache.lucene.store.FSDirectory.open(fresh);
        var rf = org.apache.lucene.index.DirectoryReader.open(df)) {
      assertEquals(35, ra.maxDoc(), "no deleted document left behind");
      assertFalse(ra.hasDeletions());
      var sa = new org.apache.lucene.search.IndexSearcher(ra);
      var sf = new org.apache.lucene.search.IndexSearcher(rf);
      var ca = sa.collectionStatistics(dev.editforge.lucene.ShardFields.BODY);
      var cf = sf.collectionStatistics(dev.editforge.lucene.ShardFields.BODY);
      assertEquals(cf.docCount(), ca.docCount());
      assertEquals(cf.sumTotalTermFreq(), ca.sumTotalTermFreq());
      assertEquals(cf.sumDocFreq(), ca.sumDocFreq());
      var terms =
          org.apache.lucene.index.MultiTerms.getTerms(rf, dev.editforge.lucene.ShardFields.BODY)
              .iterator();
      int checked = 0;
      for (var term = terms.next(); term != null; term = terms.next()) {
        var t =
            new org.apache.lucene.index.Term(
                dev.editforge.lucene.ShardFields.BODY,
                org.apache.lucene.util.BytesRef.deepCopyOf(term));
        assertEquals(terms.docFreq(), ra.docFreq(t), t.text());
        assertEquals(terms.totalTermFreq(), ra.totalTermFreq(t), t.text());
        checked++;
      }
      assertTrue(checked > 10, checked + " terms");
    }
  }

  @Test
  void manifestCountsEveryPassageOnceAndVerifies(@TempDir Path dir) {
    List<IndexedPassage> ps = TestCorpus.passages(60, 16, true, 1);
    IndexManifest m = build(dir, IndexSettings.defaults(3), ps);
    assertEquals(3, m.shardCount());
    assertEquals(60, m.docs());
    assertEquals(60, m.shards().stream().mapToLong(IndexManifest.Shard::docs).sum());
    ShardAssigner a = new ShardAssigner(3);
    long inShard1 = ps.stream().filter(p -> a.shardOf(p.passageId()) == 1).count();
    assertEquals(inShard1, m.shards().get(1).docs());
    assertEquals("cosine", m.similarity());
    assertEquals(16, m.dimension());
    assertEquals("english", m.analyzer());
    assertTrue(m.verify(dir).isEmpty(), m.verify(dir).toString());
    IndexManifest back = IndexManifest.read(dir);
    assertEquals(m, back);
  }

  @Test
  void verificationNamesAMissingShardAndAnAlteredOne(@TempDir Path dir) throws IOException {
    build(dir, IndexSettings.defaults(3), TestCorpus.passages(30, 16, true, 2));
    IndexManifest m = IndexManifest.read(dir);
    deleteTree(dir.resolve("shard-00001"));
    Path victim;
    try (Stream<Path> s = Files.list(dir.resolve("shard-00002"))) {
      // The largest file: small segments may be packed into a compound file, so no fixed extension.
      victim = s.max(Comparator.comparingLong(p -> p.toFile().length())).orElseThrow();
    }
    try (RandomAccessFile f = new RandomAccessFile(victim.toFile(), "rw")) {
      f.seek(20);
      int b = f.read();
      f.seek(20);
      f.write(b ^ 0xff);
    }
    List<String> problems = m.verify(dir);
    assertEquals(2, problems.size(), problems.toString());
    assertTrue(problems.get(0).startsWith("shard 1 is missing"), problems.get(0));
    assertTrue(
        problems.get(1).startsWith("shard 2 (shard-00002) checksum mismatch"), problems.get(1));
    IndexVerificationException e =
        assertThrows(IndexVerificationException.class, () -> m.verifyOrThrow(dir));
    assertEquals(2, e.problems().size());
  }

  @Test
  void aMissingManifestIsReportedAsAnUnfinishedIndex(@TempDir Path dir) {
    IndexVerificationException e =
        assertThrows(IndexVerificationException.class, () -> IndexManifest.read(dir));
    assertTrue(e.getMessage().contains("not finished"), e.getMessage());
  }

  @Test
  void duplicatePassageIdsReplaceEarlierOnes(@TempDir Path dir) {
    List<IndexedPassage> ps = TestCorpus.passages(10, 16, true, 3);
    try (ShardWriter w =
        new ShardWriter(
            dir,
            IndexSettings.defaults(1),
            new ShardWriter.VectorSpec(16, VectorSimilarity.COSINE))) {
      ps.forEach(w::add);
      w.add(ps.get(4));
      ShardWriter.ShardStats s = w.finish();
      assertEquals(10, s.docs());
      assertEquals(11, s.added());
      assertEquals(1, s.duplicates());
      assertTrue(s.bytes() > 0);
    }
  }

  @Test
  void badVectorsAreRefusedWithThePassageId(@TempDir Path dir) {
    try (ShardWriter w =
        new ShardWriter(
            dir.resolve("a"),
            IndexSettings.defaults(1),
            new ShardWriter.VectorSpec(16, VectorSimilarity.DOT_PRODUCT))) {
      IllegalArgumentException wrongDim =
          assertThrows(
              IllegalArgumentException.class,
              () -> w.add(new IndexedPassage("p1", null, "t", "x", new float[15])));
      assertTrue(
          wrongDim.getMessage().contains("p1") && wrongDim.getMessage().contains("16"),
          wrongDim.getMessage());
      float[] notUnit = new float[16];
      notUnit[0] = 2f;
      IllegalArgumentException norm =
          assertThrows(
              IllegalArgumentException.class,
              () -> w.add(new IndexedPassage("p2", null, "t", "x", notUnit)));
      assertTrue(norm.getMessage().contains("unit"), norm.getMessage());
      float[] nan = TestCorpus.unit(new float[16]);
      nan[3] = Float.NaN;
      assertThrows(
          IllegalArgumentException.class,
          () -> w.add(new IndexedPassage("p3", null, "t", "x", nan)));
    }
  }

  @Test
  void anIndexSimilarityTheEncoderCannotSupportIsRefused() {
    IndexSettings dot =
        new IndexSettings(
            1,
            TextAnalyzer.ENGLISH,
            1.2f,
            0.75f,
            true,
            VectorSimilarity.DOT_PRODUCT,
            16,
            100,
            VectorQuantization.NONE,
            1,
            1,
            64);
    assertEquals(
        VectorSimilarity.DOT_PRODUCT, dot.resolveSimilarity(VectorSimilarity.COSINE, true));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> dot.resolveSimilarity(VectorSimilarity.MAXIMUM_INNER_PRODUCT, false));
    assertTrue(e.getMessage().contains("not normalized"), e.getMessage());
  }

  @Test
  void anUnfinishedShardLeavesNoCommit(@TempDir Path dir) throws IOException {
    try (ShardWriter w =
        new ShardWriter(
            dir,
            IndexSettings.defaults(1),
            new ShardWriter.VectorSpec(16, VectorSimilarity.COSINE))) {
      TestCorpus.passages(5, 16, true, 4).forEach(w::add);
    }
    try (Stream<Path> s = Files.list(dir)) {
      assertFalse(s.anyMatch(p -> p.getFileName().toString().startsWith("segments_")));
    }
  }

  static void deleteTree(Path p) throws IOException {
    try (Stream<Path> s = Files.walk(p)) {
      for (Path x : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.delete(x);
      }
    }
  }
}
