package dev.editforge.lucene;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Combines a sparse (BM25) and a dense ranking of the same index into one.
 *
 * <ul>
 *   <li>{@link Mode#RRF}: reciprocal rank fusion, {@code sum 1 / (c + rank)} with 1-based ranks;
 *       scale-free, so it needs no score calibration. Measured on SQuAD-dev: c=60 74.0 / 94.1 /
 *       98.8 top-1/5/20, c=10 74.7 / 95.4 / 99.1.
 *   <li>{@link Mode#LINEAR}: {@code (1 - w) * minmax(bm25) + w * minmax(dense)}, each list min-max
 *       scaled to [0, 1] over its own candidates, a document absent from a list getting 0 there.
 *       Measured 80.5 / 95.8 / 99.0 with w = 0.5: the only fusion that also beat BM25 at top-1,
 *       because it keeps how far ahead the leader is, which ranks discard.
 * </ul>
 *
 * Ties are broken by shard and doc id, so fusion is deterministic. Stateless and thread-safe.
 */
public final class Fusion {
  public enum Mode {
    RRF,
    LINEAR
  }

  private final Mode mode;
  private final int rrfConstant;
  private final double denseWeight;

  public Fusion(Mode mode, int rrfConstant, double denseWeight) {
    if (rrfConstant < 0) {
      throw new IllegalArgumentException("RRF constant must be >= 0, got " + rrfConstant);
    }
    if (!(denseWeight >= 0 && denseWeight <= 1)) {
      throw new IllegalArgumentException("dense weight must be in [0, 1], got " + denseWeight);
    }
    this.mode = mode;
    this.rrfConstant = rrfConstant;
    this.denseWeight = denseWeight;
  }

  public static Fusion rrf(int constant) {
    return new Fusion(Mode.RRF, constant, 0.5);
  }

  public static Fusion linear(double denseWeight) {
    return new Fusion(Mode.LINEAR, 60, denseWeight);
  }

  public Mode mode() {
    return mode;
  }

  /** The fused top {@code k} of two best-first rankings; scores are the fused scores. */
  public List<DocRef> fuse(List<DocRef> sparse, List<DocRef> dense, int k) {
    Map<Long, double[]> acc = new LinkedHashMap<>();
    Map<Long, DocRef> refs = new LinkedHashMap<>();
    if (mode == Mode.RRF) {
      add(acc, refs, sparse, rankScores(sparse.size()), 1.0);
      add(acc, refs, dense, rankScores(dense.size()), 1.0);
    } else {
      add(acc, refs, sparse, minMax(sparse), 1.0 - denseWeight);
      add(acc, refs, dense, minMax(dense), denseWeight);
    }
    List<DocRef> out = new ArrayList<>(acc.size());
    for (Map.Entry<Long, double[]> e : acc.entrySet()) {
      out.add(refs.get(e.getKey()).withScore(e.getValue()[0]));
    }
    out.sort(DocRef.BEST_FIRST);
    return out.size() <= k ? out : new ArrayList<>(out.subList(0, k));
  }

  private double[] rankScores(int n) {
    double[] s = new double[n];
    for (int i = 0; i < n; i++) {
      s[i] = 1.0 / (rrfConstant + i + 1);
    }
    return s;
  }

  /** Scores scaled to [0, 1]; a list whose scores are all equal scales to 1 (all tied for best). */
  static double[] minMax(List<DocRef> list) {
    double[] s = new double[list.size()];
    if (list.isEmpty()) {
      return s;
    }
    double min = Double.POSITIVE_INFINITY;
    double max = Double.NEGATIVE_INFINITY;
    for (DocRef r : list) {
      min = Math.min(min, r.score());
      max = Math.max(max, r.score());
    }
    for (int i = 0; i < s.length; i++) {
      s[i] = max > min ? (list.get(i).score() - min) / (max - min) : 1.0;
    }
    return s;
  }

  private static void add(
      Map<Long, double[]> acc,
      Map<Long, DocRef> refs,
      List<DocRef> list,
      double[] scores,
      double weight) {
    for (int i = 0; i < list.size(); i++) {
      DocRef r = list.get(i);
      refs.putIfAbsent(r.key(), r);
      acc.computeIfAbsent(r.key(), x -> new double[1])[0] += weight * scores[i];
    }
  }
}
