package dev.editforge.continual;

import java.math.BigDecimal;
import java.math.RoundingMode;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;

/**
 * SEAL's forgetting matrix ({@code continual_self_edits.py}), without models: a sequence of {@code
 * n} edits gives an {@code (n + 1) x n} matrix whose row 0 holds the accuracy on every article's
 * questions before any edit and whose row {@code i} holds, after the {@code i}-th edit, the
 * accuracy on the questions of articles {@code 1..i} (columns {@code 0..i-1}) and zeros elsewhere.
 * Mean and std (population, numpy's default) over sequences, rounded to 4 decimals as SEAL writes
 * them.
 */
final class ContinualMatrix {
  private ContinualMatrix() {}

  /** What one step measured: the accuracy on the first {@code accuracies.length} articles. */
  record Step(int step, double[] accuracies) {}

  /** Columns measured in row {@code step} of an n-article sequence. */
  static int measuredColumns(int step, int n) {
    return step == 0 ? n : step;
  }

  /** One sequence's matrix from its steps 0..n (any order). */
  static double[][] of(int n, List<Step> steps) {
    double[][] m = new double[n + 1][n];
    boolean[] seen = new boolean[n + 1];
    for (Step s : steps) {
      if (s.step() < 0 || s.step() > n) {
        throw new IllegalArgumentException("step " + s.step() + " outside 0.." + n);
      }
      if (s.accuracies().length != measuredColumns(s.step(), n)) {
        throw new IllegalArgumentException(
            "step "
                + s.step()
                + " measured "
                + s.accuracies().length
                + " articles, expected "
                + measuredColumns(s.step(), n));
      }
      System.arraycopy(s.accuracies(), 0, m[s.step()], 0, s.accuracies().length);
      seen[s.step()] = true;
    }
    for (int i = 0; i <= n; i++) {
      if (!seen[i]) {
        throw new IllegalArgumentException("step " + i + " of " + n + " is missing");
      }
    }
    return m;
  }

  static double[][] mean(List<double[][]> matrices) {
    double[][] first = matrices.get(0);
    double[][] out = new double[first.length][first[0].length];
    for (double[][] m : matrices) {
      for (int i = 0; i < out.length; i++) {
        for (int j = 0; j < out[i].length; j++) {
          out[i][j] += m[i][j] / matrices.size();
        }
      }
    }
    return out;
  }

  /** Population standard deviation (numpy's {@code std}, ddof = 0), cell by cell. */
  static double[][] std(List<double[][]> matrices) {
    double[][] mean = mean(matrices);
    double[][] out = new double[mean.length][mean[0].length];
    for (double[][] m : matrices) {
      for (int i = 0; i < out.length; i++) {
        for (int j = 0; j < out[i].length; j++) {
          double d = m[i][j] - mean[i][j];
          out[i][j] += d * d / matrices.size();
        }
      }
    }
    for (double[] row : out) {
      for (int j = 0; j < row.length; j++) {
        row[j] = Math.sqrt(row[j]);
      }
    }
    return out;
  }

  /** Python's {@code round(x, 4)}: half-even on the exact binary value. */
  static double round4(double x) {
    return new BigDecimal(x).setScale(4, RoundingMode.HALF_EVEN).doubleValue();
  }

  static List<List<Double>> rounded(double[][] m) {
    List<List<Double>> out = new ArrayList<>();
    for (double[] row : m) {
      List<Double> r = new ArrayList<>();
      for (double v : row) {
        r.add(round4(v));
      }
      out.add(r);
    }
    return out;
  }

  /**
   * The object SEAL writes as {@code continual_overall_results.json}, with its keys in its order.
   */
  static Map<String, Object> sealJson(
      List<double[][]> sequences, String dataset, String baseModel) {
    Map<String, Object> out = new LinkedHashMap<>();
    out.put("mean_over_sequences", rounded(mean(sequences)));
    out.put("std_over_sequences", rounded(std(sequences)));
    out.put("n_sequences", sequences.size());
    out.put("n_datapoints", sequences.get(0)[0].length);
    out.put("dataset", dataset);
    out.put("base_model", baseModel);
    return out;
  }

  /** The mean matrix as the console shows it: a row per step, blanks where SEAL has zeros. */
  static String render(double[][] mean, double[][] std) {
    int n = mean[0].length;
    StringBuilder sb = new StringBuilder(String.format(Locale.ROOT, "%-8s", "step"));
    for (int j = 0; j < n; j++) {
      sb.append(String.format(Locale.ROOT, " %13s", "article " + (j + 1)));
    }
    sb.append('\n');
    for (int i = 0; i < mean.length; i++) {
      sb.append(String.format(Locale.ROOT, "%-8s", i == 0 ? "base" : "edit " + i));
      for (int j = 0; j < n; j++) {
        sb.append(
            j < measuredColumns(i, n)
                ? String.format(Locale.ROOT, " %6.3f±%-6.3f", mean[i][j], std[i][j])
                : String.format(Locale.ROOT, " %13s", "."));
      }
      sb.append('\n');
    }
    return sb.toString();
  }
}
