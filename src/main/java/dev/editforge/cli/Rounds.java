package dev.editforge.cli;

import dev.editforge.config.SettingsException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.List;
import java.util.Locale;
import java.util.Random;
import java.util.Set;
import java.util.TreeSet;

/**
 * The arithmetic of {@code editforge iterate}, free of Spark: which training articles each round
 * draws, the checks made before any round starts, and one {@code rounds} row from a round's
 * outputs.
 */
public final class Rounds {
  private Rounds() {}

  /**
   * The articles of every round: the ids sorted, shuffled once with {@code seed}, then cut into
   * consecutive blocks of {@code perRound}; so rounds are disjoint, and the first rounds' draws do
   * not change when more rounds are asked for later (a longer rerun resumes). Each block is sorted.
   *
   * @throws SettingsException (exit 2) when {@code rounds * perRound} exceeds the articles
   */
  public static List<List<String>> draw(
      Collection<String> articleIds, int perRound, int rounds, long seed) {
    if (rounds < 1) {
      throw new SettingsException("iterate --rounds " + rounds + ": at least 1 round is needed");
    }
    List<String> ids = new ArrayList<>(new TreeSet<>(articleIds));
    long wanted = (long) perRound * rounds;
    if (wanted > ids.size()) {
      throw new SettingsException(
          String.format(
              Locale.ROOT,
              "iterate: %d rounds x %d articles per round (editforge.iterate.articles-per-round)"
                  + " = %d training articles requested, but the training input has only %d;"
                  + " lower --rounds or iterate.articles-per-round, or add training articles",
              rounds,
              perRound,
              wanted,
              ids.size()));
    }
    Collections.shuffle(ids, new Random(seed));
    List<List<String>> out = new ArrayList<>();
    for (int r = 0; r < rounds; r++) {
      List<String> block = new ArrayList<>(ids.subList(r * perRound, (r + 1) * perRound));
      Collections.sort(block);
      out.add(List.copyOf(block));
    }
    return out;
  }

  /**
   * Refuses held-out articles that are also training articles (the same article_id): evaluating on
   * what the model was trained on would overstate the gain.
   */
  public static void checkDisjoint(Collection<String> train, Collection<String> heldout) {
    Set<String> both = new TreeSet<>(heldout);
    both.retainAll(new TreeSet<>(train));
    if (!both.isEmpty()) {
      throw new SettingsException(
          String.format(
              Locale.ROOT,
              "iterate: %d of the %d held-out articles are also training articles (same"
                  + " article_id, e.g. %s); give --heldout articles that --train does not contain",
              both.size(),
              new TreeSet<>(heldout).size(),
              both.iterator().next()));
    }
  }

  /** One round's row of the {@code rounds} table. */
  public record Row(
      int round,
      String policyModel,
      String policyFingerprint,
      double meanBaselineAccuracy,
      double meanAdapterAccuracy,
      double meanGain,
      double positiveGainShare,
      long sftRows,
      Double evalAccuracy,
      Double sealNoTraining,
      Double sealPassageOnly,
      Double sealBaseEdits,
      Double sealPolicyEdits) {}

  /** One scored edit: its ttt_scores row's baseline and adapter accuracy and gain. */
  public record Score(double baselineAccuracy, double adapterAccuracy, double adapterGain) {}

  /**
   * The row of round {@code round}: means over its ttt_scores rows (0 when it scored none), the
   * share of rows whose adapter gain is above 0, the sft table's rows and the evaluation accuracy;
   * no SEAL evaluation.
   */
  public static Row row(
      int round,
      String policyModel,
      String policyFingerprint,
      List<Score> scores,
      long sftRows,
      Double evalAccuracy) {
    return row(round, policyModel, policyFingerprint, scores, sftRows, evalAccuracy, new Double[4]);
  }

  /**
   * As above, with SEAL's evaluation of the round: no training, passage only, base edits, policy
   * edits (each null when absent).
   */
  public static Row row(
      int round,
      String policyModel,
      String policyFingerprint,
      List<Score> scores,
      long sftRows,
      Double evalAccuracy,
      Double[] seal) {
    int n = scores.size();
    double base = 0;
    double adapter = 0;
    double gain = 0;
    int positive = 0;
    for (Score s : scores) {
      base += s.baselineAccuracy();
      adapter += s.adapterAccuracy();
      gain += s.adapterGain();
      positive += s.adapterGain() > 0 ? 1 : 0;
    }
    return n == 0
        ? new Row(
            round,
            policyModel,
            policyFingerprint,
            0,
            0,
            0,
            0,
            sftRows,
            evalAccuracy,
            seal[0],
            seal[1],
            seal[2],
            seal[3])
        : new Row(
            round,
            policyModel,
            policyFingerprint,
            base / n,
            adapter / n,
            gain / n,
            (double) positive / n,
            sftRows,
            evalAccuracy,
            seal[0],
            seal[1],
            seal[2],
            seal[3]);
  }

  /** The table printed at the end of {@code iterate}. */
  public static String render(List<Row> rows) {
    StringBuilder b = new StringBuilder();
    b.append(
        String.format(
            Locale.ROOT,
            "%-5s %-10s %9s %9s %8s %8s %8s %9s %9s %9s %9s %9s  %s%n",
            "round",
            "policy",
            "baseline",
            "adapter",
            "gain",
            "gain>0",
            "sft",
            "eval_acc",
            "seal_none",
            "seal_pass",
            "seal_base",
            "seal_pol",
            "policy model"));
    for (Row r : rows) {
      b.append(
          String.format(
              Locale.ROOT,
              "%-5d %-10s %9.4f %9.4f %+8.4f %8.2f %8d %9s %9s %9s %9s %9s  %s%n",
              r.round(),
              shortFp(r.policyFingerprint()),
              r.meanBaselineAccuracy(),
              r.meanAdapterAccuracy(),
              r.meanGain(),
              r.positiveGainShare(),
              r.sftRows(),
              num(r.evalAccuracy()),
              num(r.sealNoTraining()),
              num(r.sealPassageOnly()),
              num(r.sealBaseEdits()),
              num(r.sealPolicyEdits()),
              r.policyModel()));
    }
    return b.toString();
  }

  private static String num(Double d) {
    return d == null ? "-" : String.format(Locale.ROOT, "%.4f", d);
  }

  private static String shortFp(String fp) {
    return fp.length() <= 10 ? fp : fp.substring(0, 10);
  }
}
