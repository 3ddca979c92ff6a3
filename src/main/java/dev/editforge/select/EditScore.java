package dev.editforge.select;

import java.math.BigDecimal;
import java.math.MathContext;
import java.util.List;

/**
 * One self-edit with its TTT results: the adapter and baseline accuracy of every repeat (the {@code
 * ttt_scores} rows of this edit). {@code ordinal} is the edit's place among its article's
 * completions in generation order (SEAL's list order): ranking ties keep the lower ordinal.
 */
public record EditScore(
    String articleId,
    String editId,
    int ordinal,
    String prompt,
    String completion,
    List<Double> adapterAccuracies,
    List<Double> baselineAccuracies) {

  public EditScore {
    adapterAccuracies = List.copyOf(adapterAccuracies);
    baselineAccuracies = List.copyOf(baselineAccuracies);
  }

  /** True when at least one repeat was scored. */
  public boolean scored() {
    return !adapterAccuracies.isEmpty();
  }

  public double meanAdapter() {
    return mean(adapterAccuracies);
  }

  public double meanBaseline() {
    return mean(baselineAccuracies);
  }

  /** Mean adapter accuracy minus mean baseline accuracy over the repeats. */
  public double gain() {
    return mean(adapterAccuracies) - mean(baselineAccuracies);
  }

  /**
   * The mean as Python's {@code statistics.mean} computes it (SEAL's {@code adapter_mean}): the
   * exact sum of the doubles divided once and rounded once. Summing in double arithmetic instead
   * can make two edits that SEAL sees as tied differ in the last bit, and ties decide the pick (22
   * of the 50 articles of rank_iter0 have a tie for the best edit).
   */
  public static double mean(List<Double> values) {
    if (values.isEmpty()) {
      return Double.NaN;
    }
    BigDecimal sum = BigDecimal.ZERO;
    for (double v : values) {
      sum = sum.add(new BigDecimal(v));
    }
    return sum.divide(BigDecimal.valueOf(values.size()), MathContext.DECIMAL128).doubleValue();
  }
}
