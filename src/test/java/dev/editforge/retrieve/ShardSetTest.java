package dev.editforge.retrieve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.config.IndexSettings;
import dev.editforge.encoders.VectorSimilarity;
import dev.editforge.index.EncoderInfo;
import dev.editforge.index.IndexBuilder;
import dev.editforge.index.IndexedPassage;
import dev.editforge.index.TestCorpus;
import dev.editforge.lucene.IndexVerificationException;
import dev.editforge.lucene.VectorQuantization;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ShardSetTest {
  static final int DIM = 16;

  static void build(Path dir, IndexSettings s, VectorSimilarity sim, List<IndexedPassage> ps) {
    try (IndexBuilder b =
        new IndexBuilder(dir, s, new EncoderInfo("test-model", "minilm", DIM, sim))) {
      ps.forEach(b::add);
      b.finish();
    }
  }

  @Test
  void bm25FindsTheDistinctivePassageAcrossShards(@TempDir Path dir) {
    List<IndexedPassage> ps = TestCorpus.passages(90, DIM, true, 5);
    build(dir, IndexSettings.defaults(4), VectorSimilarity.COSINE, ps);
    try (ShardSet set = ShardSet.open(dir, true, true)) {
      assertEquals(90, set.numDocs());
      List<Hit> hits = set.load(set.bm25("which passage mentions w37?", 5));
      assertEquals("pid-37", hits.get(0).passageId());
      assertEquals("src-37", hits.get(0).selfRagId());
      assertTrue(hits.get(0).text().contains("w37"));
      for (int i = 1; i < hits.size(); i++) {
        assertTrue(hits.get(i - 1).score() >= hits.get(i).score());
      }
      assertTrue(set.bm25("the of and", 5).isEmpty(), "stop words only: nothing to search");
    }
  }

  @Test
  void globalStatisticsMakeShardedBm25EqualToOneIndex(@TempDir Path dir) {
    List<IndexedPassage> ps = TestCorpus.passages(120, DIM, true, 6);
    build(dir.resolve("one"), IndexSettings.defaults(1), VectorSimilarity.COSINE, ps);
    build(dir.resolve("five"), IndexSettings.defaults(5), VectorSimilarity.COSINE, ps);
    String q = "glacier melting near the volcano";
    try (ShardSet one = ShardSet.open(dir.resolve("one"), false, true);
        ShardSet global = ShardSet.open(dir.resolve("five"), false, true);
        ShardSet local = ShardSet.open(dir.resolve("five"), false, false)) {
      List<Hit> a = one.load(one.bm25(q, 10));
      List<Hit> b = global.load(global.bm25(q, 10));
      for (int i = 0; i < 10; i++) {
        assertEquals(a.get(i).score(), b.get(i).score(), 1e-4, "rank " + i);
      }
      assertEquals(
          a.stream().map(Hit::passageId).sorted().toList(),
          b.stream().map(Hit::passageId).sorted().toList());
      // Shard-local statistics give different IDF per shard, hence different scores.
      List<Hit> c = local.load(local.bm25(q, 10));
      double maxDiff = 0;
      for (int i = 0; i < 10; i++) {
        maxDiff = Math.max(maxDiff, Math.abs(a.get(i).score() - c.get(i).score()));
      }
      assertTrue(maxDiff > 1e-3, "local statistics should change scores, max diff " + maxDiff);
    }
  }

  @Test
  void denseSearchReturnsRawCosineAndFindsTheQueryVectorItself(@TempDir Path dir) {
    List<IndexedPassage> ps = TestCorpus.passages(200, DIM, true, 7);
    build(dir, IndexSettings.defaults(3), VectorSimilarity.COSINE, ps);
    try (ShardSet set = ShardSet.open(dir, true, true)) {
      IndexedPassage target = ps.get(77);
      List<Hit> hits = set.load(set.dense(target.vector(), 5, 100));
      assertEquals("pid-77", hits.get(0).passageId());
      assertEquals(1.0, hits.get(0).score(), 1e-5);
      IndexedPassage second =
          ps.stream()
              .filter(p -> p.passageId().equals(hits.get(1).passageId()))
              .findFirst()
              .orElseThrow();
      assertEquals(
          VectorSimilarity.COSINE.compare(target.vector(), second.vector()),
          hits.get(1).score(),
          1e-5);
      IllegalArgumentException e =
          assertThrows(IllegalArgumentException.class, () -> set.dense(new float[DIM + 1], 5, 100));
      assertTrue(e.getMessage().contains("dimensions"));
    }
  }

  @Test
  void maximumInnerProductScoresAreTheRawInnerProducts(@TempDir Path dir) {
    List<IndexedPassage> ps = TestCorpus.passages(150, DIM, false, 8);
    build(dir, IndexSettings.defaults(2), VectorSimilarity.MAXIMUM_INNER_PRODUCT, ps);
    float[] q = ps.get(3).vector().clone();
    for (int d = 0; d < DIM; d++) {
      q[d] *= -0.5f + (d % 3);
    }
    double best = Double.NEGATIVE_INFINITY;
    String bestId = null;
    for (IndexedPassage p : ps) {
      double s = VectorSimilarity.MAXIMUM_INNER_PRODUCT.compare(q, p.vector());
      if (s > best) {
        best = s;
        bestId = p.passageId();
      }
    }
    try (ShardSet set = ShardSet.open(dir, true, true)) {
      Hit top = set.load(set.dense(q, 1, 150)).get(0);
      assertEquals(bestId, top.passageId());
      assertEquals(best, top.score(), 1e-3 * Math.max(1, Math.abs(best)));
    }
  }

  @Test
  void int8QuantizedShardsStillFindNearestNeighbours(@TempDir Path dir) {
    List<IndexedPassage> ps = TestCorpus.passages(300, DIM, true, 9);
    build(
        dir,
        IndexSettings.defaults(2).withQuantization(VectorQuantization.INT8),
        VectorSimilarity.COSINE,
        ps);
    try (ShardSet set = ShardSet.open(dir, true, true)) {
      assertEquals("int8", set.manifest().quantization());
      int self = 0;
      for (int i = 0; i < 30; i++) {
        if (set.load(set.dense(ps.get(i).vector(), 1, 50)).get(0).passageId().equals("pid-" + i)) {
          self++;
        }
      }
      assertEquals(30, self, "re-ranked by exact similarity, every vector finds itself");
      Hit top = set.load(set.dense(ps.get(5).vector(), 2, 50)).get(1);
      float[] v =
          ps.stream()
              .filter(p -> p.passageId().equals(top.passageId()))
              .findFirst()
              .orElseThrow()
              .vector();
      assertEquals(
          VectorSimilarity.COSINE.compare(ps.get(5).vector(), v),
          top.score(),
          1e-9,
          "exact, not quantized, score");
    }
  }

  @Test
  void emptyShardsAreSearchableAndContributeNothing(@TempDir Path dir) {
    List<IndexedPassage> ps = TestCorpus.passages(2, DIM, true, 13);
    build(dir, IndexSettings.defaults(6), VectorSimilarity.COSINE, ps);
    try (ShardSet set = ShardSet.open(dir, true, true)) {
      assertEquals(2, set.numDocs());
      assertTrue(set.manifest().shards().stream().filter(s -> s.docs() == 0).count() >= 4);
      assertEquals(2, set.dense(ps.get(0).vector(), 10, 100).size());
      assertEquals("pid-1", set.load(set.bm25("w1", 10)).get(0).passageId());
    }
  }

  @Test
  void openingRefusesATamperedIndexUnlessVerificationIsOff(@TempDir Path dir) throws Exception {
    build(
        dir,
        IndexSettings.defaults(2),
        VectorSimilarity.COSINE,
        TestCorpus.passages(20, DIM, true, 10));
    Files.writeString(dir.resolve("shard-00000").resolve("extra.bin"), "x");
    IndexVerificationException e =
        assertThrows(IndexVerificationException.class, () -> ShardSet.open(dir, true, true));
    assertTrue(e.getMessage().contains("shard 0"), e.getMessage());
    try (ShardSet set = ShardSet.open(dir, false, true)) {
      assertEquals(20, set.numDocs());
    }
  }
}
