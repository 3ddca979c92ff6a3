package dev.editforge.judge;

import dev.editforge.io.SealRunFile;
import dev.editforge.io.UnusableInputException;
import dev.editforge.text.AnswerPrompt;
import java.io.IOException;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Locale;
import java.util.Set;

/**
 * {@code editforge evaluate-judge --seal-run FILE}: how well each local judge reproduces SEAL's
 * GPT-4.1 verdicts. Every (question, gold, answer) of the run is judged — the baseline and the
 * adapter answer of every question of every repeat of every completion, as SEAL graded them — and
 * compared with {@code baseline_correct}/{@code adapter_correct}. The best judge is the one with
 * the highest Cohen's kappa (chance-corrected, so a judge cannot win by always saying "wrong" on a
 * run where most answers are wrong); ties keep the judge listed first.
 */
public final class JudgeEvaluation {
  private JudgeEvaluation() {}

  /**
   * One grading SEAL made: the question as its grader saw it, the gold, the answer, GPT-4.1's
   * verdict.
   */
  public record Judgment(String question, String gold, String answer, boolean reference) {}

  public record Result(Judge judge, JudgeAgreement agreement) {}

  /** Two judgments (baseline, adapter) per question entry, in file order. */
  public static List<Judgment> judgments(SealRunFile.Run run) {
    List<Judgment> out = new ArrayList<>();
    for (SealRunFile.Article a : run.articles()) {
      for (SealRunFile.Completion c : a.completions()) {
        for (SealRunFile.Question q : c.questions()) {
          String question = AnswerPrompt.questionField(a.title(), q.question());
          out.add(new Judgment(question, q.answer(), q.baselineAnswer(), q.baselineCorrect()));
          out.add(new Judgment(question, q.answer(), q.adapterAnswer(), q.adapterCorrect()));
        }
      }
    }
    return out;
  }

  public static List<Result> evaluate(List<Judgment> judgments, List<Judge> judges) {
    List<Result> out = new ArrayList<>();
    for (Judge j : judges) {
      JudgeAgreement agg = JudgeAgreement.empty();
      for (Judgment g : judgments) {
        agg = agg.add(g.reference(), j.correct(g.question(), List.of(g.gold()), g.answer()));
      }
      out.add(new Result(j, agg));
    }
    return out;
  }

  /** The result with the highest kappa (NaN counts lowest); the earliest on ties. */
  public static Result best(List<Result> results) {
    Result best = null;
    for (Result r : results) {
      double k = r.agreement().kappa();
      if (best == null
          || (!Double.isNaN(k)
              && (Double.isNaN(best.agreement().kappa()) || k > best.agreement().kappa()))) {
        best = r;
      }
    }
    return best;
  }

  /** Every local judge with the default thresholds. */
  public static List<Judge> localJudges(JudgeSettings settings) {
    List<Judge> judges = new ArrayList<>();
    for (String name : LocalJudges.NAMES) {
      judges.add(LocalJudges.byName(name, settings));
    }
    return judges;
  }

  public static void run(Path sealRun, PrintStream out) {
    run(sealRun, out, JudgeSettings.defaults());
  }

  /**
   * Prints the table and ends with {@code JUDGE best=<name> kappa=<x> accuracy=<x> n=<judgments>}.
   * A file that cannot be read or holds no graded answers is an {@link UnusableInputException} (the
   * CLI exits 2 with its message).
   */
  public static void run(Path sealRun, PrintStream out, JudgeSettings settings) {
    run(sealRun.toString(), new org.apache.hadoop.conf.Configuration(), out, settings);
  }

  /**
   * {@link #run(Path, PrintStream, JudgeSettings)} of a local path or a Hadoop URI (hdfs://,
   * s3a://, file:/) read through {@code conf}.
   */
  public static void run(
      String sealRun,
      org.apache.hadoop.conf.Configuration conf,
      PrintStream out,
      JudgeSettings settings) {
    SealRunFile.Run run;
    try {
      run = SealRunFile.read(sealRun, conf);
    } catch (IOException | RuntimeException e) {
      throw new UnusableInputException("cannot read SEAL run " + sealRun + ": " + e.getMessage());
    }
    List<Judgment> judgments = judgments(run);
    if (judgments.isEmpty()) {
      throw new UnusableInputException(
          sealRun + " holds no graded answers (no completions[].questions[])");
    }
    long positives = judgments.stream().filter(Judgment::reference).count();
    long blank =
        judgments.stream().filter(j -> dev.editforge.text.PyText.isBlank(j.answer())).count();
    Set<List<String>> distinct = new HashSet<>();
    for (Judgment j : judgments) {
      distinct.add(List.of(j.question(), j.gold(), j.answer()));
    }
    List<Result> results = evaluate(judgments, localJudges(settings));
    out.printf(
        Locale.ROOT,
        "SEAL run %s: %d articles, %d graded answers (%d distinct question/gold/answer triples, %d blank), reference GPT-4.1 says correct for %d (%.1f%%)%n",
        sealRun,
        run.articles().size(),
        judgments.size(),
        distinct.size(),
        blank,
        positives,
        100.0 * positives / judgments.size());
    out.printf(
        Locale.ROOT,
        "%-20s %-9s %6s %6s %6s %6s %9s %9s %7s %7s%n",
        "judge",
        "threshold",
        "tp",
        "fp",
        "fn",
        "tn",
        "accuracy",
        "precision",
        "recall",
        "kappa");
    for (Result r : results) {
      JudgeAgreement a = r.agreement();
      String threshold =
          switch (r.judge().name()) {
            case "f1" -> fmt(settings.f1Threshold());
            case "token-recall" -> fmt(settings.recallThreshold());
            default -> "-";
          };
      out.printf(
          Locale.ROOT,
          "%-20s %-9s %6d %6d %6d %6d %9s %9s %7s %7s%n",
          r.judge().name(),
          threshold,
          a.tp(),
          a.fp(),
          a.fn(),
          a.tn(),
          fmt(a.accuracy()),
          fmt(a.precision()),
          fmt(a.recall()),
          fmt(a.kappa()));
    }
    Result best = best(results);
    out.printf(
        Locale.ROOT,
        "JUDGE best=%s kappa=%s accuracy=%s n=%d%n",
        best.judge().name(),
        fmt(best.agreement().kappa()),
        fmt(best.agreement().accuracy()),
        best.agreement().n());
  }

  private static String fmt(double x) {
    return Double.isNaN(x) ? "NaN" : String.format(Locale.ROOT, "%.4f", x);
  }
}
