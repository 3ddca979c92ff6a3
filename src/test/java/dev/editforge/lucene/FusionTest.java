package dev.editforge.lucene;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import dev.editforge.retrieve.TopK;
import java.util.List;
import org.junit.jupiter.api.Test;

class FusionTest {
  static DocRef d(int doc, double score) {
    return new DocRef(0, doc, score);
  }

  static int[] docs(List<DocRef> l) {
    return l.stream().mapToInt(DocRef::doc).toArray();
  }

  @Test
  void rrfRewardsAgreementBetweenRankings() {
    List<DocRef> sparse = List.of(d(1, 30), d(2, 20), d(3, 10));
    List<DocRef> dense = List.of(d(3, 0.9), d(2, 0.8), d(4, 0.7));
    List<DocRef> fused = Fusion.rrf(60).fuse(sparse, dense, 10);
    // doc 2: 1/62 + 1/62; doc 3: 1/63 + 1/61; doc 1: 1/61; doc 4: 1/63
    assertArrayEquals(new int[] {3, 2, 1, 4}, docs(fused));
    assertEquals(1.0 / 63 + 1.0 / 61, fused.get(0).score(), 1e-12);
    assertEquals(2, Fusion.rrf(60).fuse(sparse, dense, 2).size());
  }

  @Test
  void linearFusionKeepsTheMarginThatRanksThrowAway() {
    // BM25 is very sure about doc 1; dense slightly prefers doc 2.
    List<DocRef> sparse = List.of(d(1, 40), d(2, 10), d(3, 9));
    List<DocRef> dense = List.of(d(2, 0.80), d(1, 0.79), d(3, 0.10));
    assertArrayEquals(new int[] {1, 2, 3}, docs(Fusion.linear(0.5).fuse(sparse, dense, 3)));
    // RRF sees a tie between 1 and 2 (ranks 1+2 each) and falls back to doc order.
    List<DocRef> rrf = Fusion.rrf(60).fuse(sparse, dense, 3);
    assertEquals(rrf.get(0).score(), rrf.get(1).score(), 1e-15);
    // Weight 1 is dense alone.
    assertArrayEquals(new int[] {2, 1, 3}, docs(Fusion.linear(1.0).fuse(sparse, dense, 3)));
  }

  @Test
  void minMaxHandlesConstantAndEmptyLists() {
    assertArrayEquals(new double[] {1, 1}, Fusion.minMax(List.of(d(1, 5), d(2, 5))), 0);
    assertArrayEquals(
        new double[] {1, 0.5, 0}, Fusion.minMax(List.of(d(1, 4), d(2, 3), d(3, 2))), 1e-12);
    assertEquals(0, Fusion.minMax(List.of()).length);
    assertEquals(1, Fusion.linear(0.5).fuse(List.of(), List.of(d(7, 0.3)), 5).size());
  }

  @Test
  void rejectsBadParameters() {
    assertThrows(IllegalArgumentException.class, () -> Fusion.linear(1.5));
    assertThrows(IllegalArgumentException.class, () -> Fusion.rrf(-1));
  }

  @Test
  void topKMergeIsGlobalAndDeterministic() {
    List<DocRef> a = List.of(new DocRef(0, 1, 5), new DocRef(0, 2, 1));
    List<DocRef> b = List.of(new DocRef(1, 1, 3), new DocRef(1, 9, 1));
    List<DocRef> m = TopK.merge(List.of(b, a), 3);
    assertEquals(List.of(new DocRef(0, 1, 5), new DocRef(1, 1, 3), new DocRef(0, 2, 1)), m);
  }
}
