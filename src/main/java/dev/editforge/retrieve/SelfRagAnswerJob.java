package dev.editforge.retrieve;

import dev.editforge.io.Fingerprints;
import dev.editforge.spark.PipelineStage;
import dev.editforge.spark.StageContext;
import dev.editforge.spark.StageOutput;
import dev.editforge.spark.StagePlan;
import java.io.IOException;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.Row;

/**
 * {@code editforge selfrag-answer}: Self-RAG inference on a question file over the run's index, in
 * one retrieval mode ({@code editforge.selfrag.mode}), short form or long form, into the {@code
 * selfrag_answers} table: one row per question with whether it retrieved, the passages, each
 * candidate's critique scores, the chosen answer (reflection tokens stripped) and, where the file
 * gives answers, Self-RAG's {@code match}.
 */
public final class SelfRagAnswerJob implements PipelineStage {
  public static final String STAGE = "selfrag-answer";
  public static final String TABLE = "selfrag_answers";

  @Override
  public String name() {
    return STAGE;
  }

  @Override
  public StagePlan plan(StageContext ctx) throws IOException {
    SelfRagSettings s = SelfRagRun.settings(ctx);
    List<String> inputs = SelfRagRun.check(ctx, STAGE, s, false);
    String configHash = Fingerprints.configHash(ctx.settings().section("selfrag"));
    return StagePlan.of(StageOutput.of(TABLE, configHash, inputs, o -> write(o, s)));
  }

  private static void write(StageOutput.Staged o, SelfRagSettings s) {
    StageContext ctx = o.context();
    SelfRagRun.Retrieved retrieved = SelfRagRun.retrieve(ctx, s);
    List<Row> rows = SelfRagRun.answer(ctx, s, retrieved, List.of(s.mode()));
    ctx.spark().createDataFrame(rows, SelfRagRun.ROWS).coalesce(1).write().parquet(o.uri());
    long n = retrieved.questions().size();
    long retrievedCount = rows.stream().filter(r -> r.<Boolean>getAs("retrieved")).count();
    long failed = rows.stream().filter(r -> r.getAs("error") != null).count();
    o.manifest()
        .count("input", n)
        .count("accepted", n)
        .count("rejected", 0)
        .count("duplicates", 0)
        .count("output", rows.size())
        .count("retrieved", retrievedCount)
        .count("errors", failed);
    o.manifest().put("mode", s.mode().key());
    o.manifest().put("form", s.longForm() ? "long" : "short");
    o.manifest().put("questions", s.questions());
    o.summary(
        String.format(
            Locale.ROOT,
            "selfrag-answer: %,d questions answered (%s, %s form), retrieved for %,d%s -> %s",
            n,
            s.mode().key(),
            s.longForm() ? "long" : "short",
            retrievedCount,
            failed == 0 ? "" : String.format(Locale.ROOT, ", %,d failed", failed),
            o.path()));
  }
}
