package dev.editforge.retrieve;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Accumulates retrieval quality over queries:
 *
 * <ul>
 *   <li>top-k accuracy: share of queries with an answer-bearing passage ({@link AnswerMatch}) in
 *       their first k hits; counted over queries that have answers;
 *   <li>gold recall@k: share of a query's gold passages found in its first k hits, averaged over
 *       queries that have gold passages.
 * </ul>
 *
 * Not thread-safe: one accumulator per thread, then {@link #merge}.
 */
public final class RetrievalMetrics {
  public static final int[] DEFAULT_KS = {1, 5, 20, 100};

  /** Ratios in [0, 1], keyed by k in ascending order; NaN where no query could be counted. */
  public record Report(
      int queries,
      int withAnswers,
      int withGold,
      Map<Integer, Double> topKAccuracy,
      Map<Integer, Double> goldRecall) {

    public double accuracy(int k) {
      return topKAccuracy.getOrDefault(k, Double.NaN);
    }

    public double recall(int k) {
      return goldRecall.getOrDefault(k, Double.NaN);
    }
  }

  private final int[] ks;
  private final long[] answerHits;
  private final double[] goldFound;
  private int queries;
  private int withAnswers;
  private int withGold;

  public RetrievalMetrics(int... ks) {
    this.ks = ks.length == 0 ? DEFAULT_KS.clone() : Arrays.stream(ks).sorted().distinct().toArray();
    if (this.ks[0] < 1) {
      throw new IllegalArgumentException("k must be >= 1");
    }
    this.answerHits = new long[this.ks.length];
    this.goldFound = new double[this.ks.length];
  }

  /**
   * Adds one query's ranked result.
   *
   * @param rankedIds passage ids best first
   * @param hasAnswer per rank whether that hit contains an answer, or null when the query has no
   *     answers
   * @param gold the query's gold passage ids, empty or null when it has none
   */
  public void add(List<String> rankedIds, List<Boolean> hasAnswer, Set<String> gold) {
    queries++;
    if (hasAnswer != null) {
      withAnswers++;
      int first = hasAnswer.indexOf(Boolean.TRUE);
      for (int i = 0; i < ks.length; i++) {
        if (first >= 0 && first < ks[i]) {
          answerHits[i]++;
        }
      }
    }
    if (gold != null && !gold.isEmpty()) {
      withGold++;
      for (int i = 0; i < ks.length; i++) {
        int found = 0;
        for (int r = 0; r < Math.min(ks[i], rankedIds.size()); r++) {
          if (gold.contains(rankedIds.get(r))) {
            found++;
          }
        }
        goldFound[i] += (double) found / gold.size();
      }
    }
  }

  public void merge(RetrievalMetrics other) {
    if (!Arrays.equals(ks, other.ks)) {
      throw new IllegalArgumentException("cannot merge metrics over different k");
    }
    queries += other.queries;
    withAnswers += other.withAnswers;
    withGold += other.withGold;
    for (int i = 0; i < ks.length; i++) {
      answerHits[i] += other.answerHits[i];
      goldFound[i] += other.goldFound[i];
    }
  }

  public Report report() {
    Map<Integer, Double> acc = new LinkedHashMap<>();
    Map<Integer, Double> rec = new LinkedHashMap<>();
    for (int i = 0; i < ks.length; i++) {
      acc.put(ks[i], withAnswers == 0 ? Double.NaN : (double) answerHits[i] / withAnswers);
      rec.put(ks[i], withGold == 0 ? Double.NaN : goldFound[i] / withGold);
    }
    return new Report(
        queries,
        withAnswers,
        withGold,
        java.util.Collections.unmodifiableMap(acc),
        java.util.Collections.unmodifiableMap(rec));
  }
}
