package dev.editforge.retrieve;

import dev.editforge.io.Fingerprints;
import dev.editforge.selfrag.RetrievalMode;
import dev.editforge.spark.PipelineStage;
import dev.editforge.spark.StageContext;
import dev.editforge.spark.StageOutput;
import dev.editforge.spark.StagePlan;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.Row;

/**
 * {@code editforge evaluate --protocol selfrag}: Self-RAG's short-form evaluation (PopQA,
 * TriviaQA-style files with {@code answers}): every question retrieved from the run's index and
 * answered in each of {@code editforge.selfrag.eval-modes}, scored with Self-RAG's {@code match} (a
 * gold answer is a case-sensitive substring of the prediction). Writes {@code evaluation_selfrag}
 * (one row per question and mode: retrieved?, passage ids, chosen answer, candidate scores), puts
 * accuracy and retrieval rate per mode in the manifest and prints the table mode x accuracy x
 * retrieval rate.
 */
public final class SelfRagEvaluation implements PipelineStage {
  public static final String STAGE = "evaluate";
  public static final String TABLE = "evaluation_selfrag";

  @Override
  public String name() {
    return STAGE;
  }

  @Override
  public StagePlan plan(StageContext ctx) throws IOException {
    SelfRagSettings s = SelfRagRun.settings(ctx);
    List<String> inputs = SelfRagRun.check(ctx, "evaluate --protocol selfrag", s, true);
    String configHash = Fingerprints.configHash(ctx.settings().section("selfrag"));
    return StagePlan.of(
        StageOutput.of(TABLE, configHash, inputs, o -> write(o, s))
            .withFingerprintName("evaluate:selfrag"));
  }

  /** One mode's totals. */
  public record ModeResult(String mode, int questions, int correct, int retrieved, int errors) {
    public double accuracy() {
      return questions == 0 ? 0.0 : (double) correct / questions;
    }

    public double retrievalRate() {
      return questions == 0 ? 0.0 : (double) retrieved / questions;
    }
  }

  /** Totals per mode, in mode order, from the rows (a row without answers counts as wrong). */
  public static List<ModeResult> summarize(List<Row> rows, List<RetrievalMode> modes) {
    List<ModeResult> out = new ArrayList<>();
    for (RetrievalMode m : modes) {
      int n = 0;
      int correct = 0;
      int retrieved = 0;
      int errors = 0;
      for (Row r : rows) {
        if (!m.key().equals(r.getAs("mode"))) {
          continue;
        }
        n++;
        correct += Boolean.TRUE.equals(r.getAs("match")) ? 1 : 0;
        retrieved += Boolean.TRUE.equals(r.getAs("retrieved")) ? 1 : 0;
        errors += r.getAs("error") != null ? 1 : 0;
      }
      out.add(new ModeResult(m.key(), n, correct, retrieved, errors));
    }
    return out;
  }

  /** The printed table: mode, questions, match accuracy %, retrieval rate %. */
  public static String table(List<ModeResult> results) {
    StringBuilder sb = new StringBuilder();
    sb.append(
        String.format(
            Locale.ROOT, "%-10s %9s %9s %10s%n", "mode", "questions", "match %", "retrieval %"));
    for (ModeResult r : results) {
      sb.append(
          String.format(
              Locale.ROOT,
              "%-10s %9d %9.1f %10.1f%s%n",
              r.mode(),
              r.questions(),
              100 * r.accuracy(),
              100 * r.retrievalRate(),
              r.errors() == 0 ? "" : "  (" + r.errors() + " failed)"));
    }
    return sb.toString();
  }

  private static void write(StageOutput.Staged o, SelfRagSettings s) {
    StageContext ctx = o.context();
    SelfRagRun.Retrieved retrieved = SelfRagRun.retrieve(ctx, s);
    List<Row> rows = SelfRagRun.answer(ctx, s, retrieved, s.evalModes());
    ctx.spark().createDataFrame(rows, SelfRagRun.ROWS).coalesce(1).write().parquet(o.uri());
    long n = retrieved.questions().size();
    List<ModeResult> results = summarize(rows, s.evalModes());
    o.manifest()
        .count("input", n)
        .count("accepted", n)
        .count("rejected", 0)
        .count("duplicates", 0)
        .count("output", rows.size());
    for (ModeResult r : results) {
      o.manifest().put("match_" + r.mode(), r.accuracy());
      o.manifest().put("retrieval_rate_" + r.mode(), r.retrievalRate());
    }
    o.manifest().put("form", s.longForm() ? "long" : "short");
    o.manifest().put("questions", s.questions());
    o.summary(
        String.format(
                Locale.ROOT,
                "evaluate: Self-RAG %s form on %,d questions of %s -> %s%n",
                s.longForm() ? "long" : "short",
                n,
                s.questions(),
                o.path())
            + table(results).stripTrailing());
  }
}
