package dev.editforge.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.lora.Batching.Batch;
import dev.editforge.lora.Batching.Mode;
import dev.editforge.lora.Batching.Plan;
import dev.editforge.lora.Batching.Row;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;
import org.junit.jupiter.api.Test;

class BatchingTest {
  static final int IGNORE = TokenizedSample.IGNORE;

  /** Sample k: ids 1000k+1..1000k+n, the first {@code prompt} labels masked (completion-only). */
  static TokenizedSample sample(int k, int n, int prompt) {
    int[] ids = new int[n];
    for (int i = 0; i < n; i++) {
      ids[i] = 1000 * k + i + 1;
    }
    int[] labels = ids.clone();
    Arrays.fill(labels, 0, Math.min(prompt, n), IGNORE);
    return new TokenizedSample(ids, labels);
  }

  static List<TokenizedSample> samples(long seed, int count, int maxLen) {
    Random r = new Random(seed);
    List<TokenizedSample> out = new ArrayList<>();
    for (int k = 0; k < count; k++) {
      int n = 1 + r.nextInt(maxLen);
      out.add(sample(k + 1, n, r.nextInt(n + 1)));
    }
    return out;
  }

  /** token id -> label, over all samples (ids are unique across samples). */
  static Map<Integer, Integer> labelsById(List<TokenizedSample> samples) {
    Map<Integer, Integer> m = new HashMap<>();
    for (TokenizedSample s : samples) {
      for (int t = 0; t < s.length(); t++) {
        m.put(s.inputIds()[t], s.labels()[t]);
      }
    }
    return m;
  }

  static long lossTokens(List<TokenizedSample> samples) {
    return samples.stream().mapToLong(TokenizedSample::lossTokens).sum();
  }

  static long rowLossTokens(List<Row> rows) {
    long n = 0;
    for (Row r : rows) {
      for (int t = 1; t < r.length(); t++) {
        if (r.labels()[t] != IGNORE) {
          n++;
        }
      }
    }
    return n;
  }

  /** Each sample appears once, whole and contiguous, in exactly one row (no split). */
  static void assertWholeSamples(List<TokenizedSample> samples, List<Row> rows) {
    Map<Integer, int[]> where = new HashMap<>();
    for (int r = 0; r < rows.size(); r++) {
      for (int t = 0; t < rows.get(r).length(); t++) {
        assertTrue(
            where.put(rows.get(r).inputIds()[t], new int[] {r, t}) == null,
            "each token appears once");
      }
    }
    for (TokenizedSample s : samples) {
      int[] first = where.get(s.inputIds()[0]);
      for (int t = 0; t < s.length(); t++) {
        int[] at = where.get(s.inputIds()[t]);
        assertEquals(first[0], at[0], "sample not split across rows");
        assertEquals(first[1] + t, at[1], "sample contiguous");
      }
    }
    assertEquals(
        samples.stream().mapToInt(TokenizedSample::length).sum(),
        rows.stream().mapToInt(Row::length).sum(),
        "token count conserved");
  }

  @Test
  void paddingIsOneSamplePerRowAndPadsEachBatchToItsLongest() {
    List<TokenizedSample> s = List.of(sample(1, 5, 2), sample(2, 3, 1), sample(3, 7, 3));
    Plan p = Batching.plan(s, Mode.PADDING, 16);
    assertEquals(3, p.rows().size());
    for (int i = 0; i < 3; i++) {
      assertArrayEquals(s.get(i).inputIds(), p.rows().get(i).inputIds());
      assertArrayEquals(s.get(i).labels(), p.rows().get(i).labels());
    }
    List<Batch> batches = Batching.batches(p.rows(), 2, 0);
    assertEquals(2, batches.size());
    Batch b = batches.get(0);
    assertEquals(5, b.time());
    assertEquals(2, b.paddingTokens());
    // row 1 (length 3) padded at 3, 4: pad id, IGNORE label, attention 0
    assertEquals(0, b.inputIds()[5 + 3]);
    assertEquals(IGNORE, b.labels()[5 + 4]);
    assertEquals(0, b.attention()[5 + 3]);
    assertEquals(1, b.attention()[5 + 2]);
    assertEquals(
        (5 - 2) + (3 - 1), b.lossTokens(), "padding adds no loss and the prompts stay masked");
    assertEquals(7, batches.get(1).time());
    assertEquals(lossTokens(s), batches.stream().mapToLong(Batch::lossTokens).sum());
    assertEquals(null, b.attendMask(), "padding rows need no block mask");
  }

  @Test
  void paddingTruncatesOverlongSamplesAndCountsIt() {
    Plan p = Batching.plan(List.of(sample(1, 10, 0), sample(2, 3, 0)), Mode.PADDING, 6);
    assertEquals(6, p.rows().get(0).length());
    assertEquals(4, p.truncatedTokens());
  }

  @Test
  void packedConcatenatesInOrderAndCutsEveryMaxLengthKeepingEveryToken() {
    List<TokenizedSample> s = samples(1, 23, 20);
    int total = s.stream().mapToInt(TokenizedSample::length).sum();
    Plan p = Batching.plan(s, Mode.PACKED, 16);
    assertEquals((total + 15) / 16, p.rows().size());
    int[] flat = new int[total];
    int[] flatLabels = new int[total];
    int at = 0;
    for (TokenizedSample x : s) {
      System.arraycopy(x.inputIds(), 0, flat, at, x.length());
      System.arraycopy(x.labels(), 0, flatLabels, at, x.length());
      at += x.length();
    }
    int[] got = new int[total];
    int[] gotLabels = new int[total];
    at = 0;
    for (int r = 0; r < p.rows().size(); r++) {
      Row row = p.rows().get(r);
      assertEquals(r < p.rows().size() - 1 ? 16 : total - 16 * r, row.length());
      for (int t = 0; t < row.length(); t++) {
        assertEquals(t, row.positionIds()[t], "positions run 0..T-1 per chunk");
      }
      assertEquals(null, row.segmentIds(), "attention spans the whole chunk");
      System.arraycopy(row.inputIds(), 0, got, at, row.length());
      System.arraycopy(row.labels(), 0, gotLabels, at, row.length());
      at += row.length();
    }
    assertArrayEquals(flat, got, "the concatenation in dataset order, nothing dropped");
    assertArrayEquals(flatLabels, gotLabels, "labels travel with their tokens");
    assertEquals(0, p.truncatedTokens());
  }

  @Test
  void concatPairsLongestWithShortestWithoutSplitting() {
    // lengths 9, 8, 5, 3, 2, 1 into rows of 12: [9, 1, 2], [8, 3], [5]
    List<TokenizedSample> s =
        List.of(
            sample(1, 5, 0),
            sample(2, 9, 0),
            sample(3, 1, 0),
            sample(4, 8, 0),
            sample(5, 3, 0),
            sample(6, 2, 0));
    Plan p = Batching.plan(s, Mode.CONCAT, 12);
    assertEquals(3, p.rows().size());
    assertEquals(List.of(12, 11, 5), p.rows().stream().map(Row::length).toList());
    assertEquals(2001, p.rows().get(0).inputIds()[0], "the longest opens the first row");
    assertEquals(3001, p.rows().get(0).inputIds()[9], "and is joined by the shortest");
    assertEquals(6001, p.rows().get(0).inputIds()[10], "then the next shortest");
    assertWholeSamples(s, p.rows());
    Row first = p.rows().get(0);
    for (int t = 0; t < first.length(); t++) {
      assertEquals(t, first.positionIds()[t], "concat keeps one running position");
    }
    assertEquals(
        IGNORE,
        first.labels()[9],
        "a joined sample's first label is not predicted from its neighbour");
    assertEquals(IGNORE, first.labels()[10]);
    assertEquals(2002, first.labels()[1]);
  }

  @Test
  void concatOnRandomSamplesConservesTokensAndLosses() {
    List<TokenizedSample> s = samples(2, 40, 30);
    Plan p = Batching.plan(s, Mode.CONCAT, 32);
    assertWholeSamples(s, p.rows());
    assertTrue(p.rows().stream().allMatch(r -> r.length() <= 32));
    assertEquals(
        lossTokens(s), rowLossTokens(p.rows()), "every scored label is still scored, no new ones");
    Map<Integer, Integer> labels = labelsById(s);
    for (Row r : p.rows()) {
      for (int t = 0; t < r.length(); t++) {
        int l = r.labels()[t];
        assertTrue(l == IGNORE || l == labels.get(r.inputIds()[t]));
      }
    }
  }

  @Test
  void bfdPacksBestFitDecreasingWithRestartingPositionsAndSegments() {
    // lengths 7, 6, 5, 4, 3, 2, 2 into bins of 10: 7 -> A, 6 -> B, 5 -> C, 4 -> B (fills it), 3 ->
    // A (fills),
    // 2 -> C (3 left), 2 -> C (1 left)
    List<TokenizedSample> s =
        List.of(
            sample(1, 2, 0),
            sample(2, 7, 0),
            sample(3, 4, 0),
            sample(4, 6, 0),
            sample(5, 5, 0),
            sample(6, 3, 0),
            sample(7, 2, 0));
    Plan p = Batching.plan(s, Mode.BFD, 10);
    assertEquals(List.of(10, 10, 9), p.rows().stream().map(Row::length).toList());
    assertWholeSamples(s, p.rows());
    Row a = p.rows().get(0);
    assertArrayEquals(new int[] {0, 1, 2, 3, 4, 5, 6, 0, 1, 2}, a.positionIds());
    assertArrayEquals(new int[] {0, 0, 0, 0, 0, 0, 0, 1, 1, 1}, a.segmentIds());
    Row c = p.rows().get(2);
    assertEquals(3, c.samples());
    assertArrayEquals(
        new int[] {5001, 5002, 5003, 5004, 5005, 1001, 1002, 7001, 7002},
        c.inputIds(),
        "5, then the two 2s in dataset order");

    Batch b = Batching.batch(p.rows(), 0);
    byte[] m = b.attendMask();
    int t = b.time();
    // row 2 (c): token 6 (segment 1) may see token 5 (segment 1), not token 4 (segment 0); padding
    // sees nothing
    assertEquals(1, m[(2 * t + 6) * t + 5]);
    assertEquals(0, m[(2 * t + 6) * t + 4]);
    assertEquals(0, m[(2 * t + 9) * t + 9]);
    assertEquals(-1, b.segmentIds()[2 * t + 9]);
  }

  @Test
  void bfdOnRandomSamplesConservesTokensAndLossesAndUsesNoMoreRowsThanConcat() {
    List<TokenizedSample> s = samples(3, 60, 40);
    Plan bfd = Batching.plan(s, Mode.BFD, 48);
    Plan concat = Batching.plan(s, Mode.CONCAT, 48);
    assertWholeSamples(s, bfd.rows());
    assertEquals(lossTokens(s), rowLossTokens(bfd.rows()));
    long total = s.stream().mapToInt(TokenizedSample::length).sum();
    assertTrue(bfd.rows().size() >= (total + 47) / 48);
    assertTrue(
        bfd.rows().size() <= concat.rows().size(),
        bfd.rows().size() + " vs " + concat.rows().size());
    for (Row r : bfd.rows()) {
      assertTrue(r.length() <= 48);
      for (int t = 0; t < r.length(); t++) {
        boolean start = t == 0 || r.segmentIds()[t] != r.segmentIds()[t - 1];
        assertEquals(start, r.positionIds()[t] == 0, "positions restart exactly at each sample");
      }
    }
  }

  @Test
  void modesParseByWireName() {
    assertEquals(Mode.BFD, Mode.parse("bfd"));
    assertEquals("packed", Mode.PACKED.wireName());
  }

  @Test
  void aPromptLongerThanMaxLengthIsCutFromTheLeftSoTheCompletionStillScores() {
    int[] ids = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    int[] labels = {-100, -100, -100, -100, -100, -100, -100, -100, -100, 10, 11, 12};
    TokenizedSample cut = new TokenizedSample(ids, labels).truncate(5);
    assertArrayEquals(new int[] {8, 9, 10, 11, 12}, cut.inputIds());
    assertArrayEquals(new int[] {-100, -100, 10, 11, 12}, cut.labels());
    int[] scoredHead = {-100, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    assertArrayEquals(
        new int[] {1, 2, 3, 4, 5},
        new TokenizedSample(ids, scoredHead).truncate(5).inputIds(),
        "a head that scores is kept, as transformers truncates");
  }
}
