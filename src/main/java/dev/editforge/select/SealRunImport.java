package dev.editforge.select;

import dev.editforge.io.Ids;
import dev.editforge.io.SealRunFile;
import java.io.IOException;
import java.math.BigDecimal;
import java.math.RoundingMode;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Turns a SEAL ranking run ({@code rank_iter0.json}) into {@link EditScore}s, so that SEAL's own
 * scores go through the same {@link BestKSelector} as editforge's.
 *
 * <p>The per-repeat accuracies are rebuilt from the per-question verdicts the way SEAL's TTT server
 * computes them: {@code round(correct / questions, 4)} per repeat (SEAL rounds each repeat's
 * accuracy before {@code query_server.py} averages them into {@code adapter_mean}). The unrounded
 * pooled fraction would differ — it changes two of the 50 picks of rank_iter0 — so the rounding is
 * part of the protocol. A completion without per-question entries falls back to its {@code stats}
 * means as a single repeat.
 *
 * <p>Ids are content hashes: article = sha256(title, context), edit = sha256(article id, edit
 * text), so re-importing the same file gives the same ids.
 */
public final class SealRunImport {
  private SealRunImport() {}

  public static List<EditScore> read(Path rankFile) throws IOException {
    return editScores(SealRunFile.read(rankFile));
  }

  public static List<EditScore> editScores(SealRunFile.Run run) {
    List<EditScore> out = new ArrayList<>();
    for (SealRunFile.Article a : run.articles()) {
      String articleId = id(a.title(), a.context());
      int ordinal = 0;
      for (SealRunFile.Completion c : a.completions()) {
        List<Double> adapter;
        List<Double> baseline;
        if (c.questions().isEmpty()) {
          adapter = List.of(c.adapterMean());
          baseline = List.of(c.baselineMean());
        } else {
          adapter = perRepeat(c.questions(), true);
          baseline = perRepeat(c.questions(), false);
        }
        out.add(
            new EditScore(
                articleId,
                id(articleId, c.text()),
                ordinal++,
                a.prompt(),
                c.text(),
                adapter,
                baseline));
      }
    }
    return out;
  }

  /** Each repeat's accuracy in repeat order, rounded to 4 decimals as SEAL's TTT server does. */
  static List<Double> perRepeat(List<SealRunFile.Question> questions, boolean adapter) {
    Map<Integer, int[]> byRep = new TreeMap<>();
    for (SealRunFile.Question q : questions) {
      int[] c = byRep.computeIfAbsent(q.rep(), r -> new int[2]);
      c[0] += (adapter ? q.adapterCorrect() : q.baselineCorrect()) ? 1 : 0;
      c[1]++;
    }
    List<Double> out = new ArrayList<>();
    for (int[] c : byRep.values()) {
      out.add(pythonRound4((double) c[0] / c[1]));
    }
    return out;
  }

  /** Python's {@code round(x, 4)}: half-even on the exact binary value of x. */
  public static double pythonRound4(double x) {
    return new BigDecimal(x).setScale(4, RoundingMode.HALF_EVEN).doubleValue();
  }

  static String id(String... parts) {
    return Ids.of(parts);
  }
}
