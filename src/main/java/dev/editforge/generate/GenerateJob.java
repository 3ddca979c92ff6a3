package dev.editforge.generate;

import dev.editforge.config.GenerateSettings;
import dev.editforge.io.RunDir;
import dev.editforge.io.StageTables;
import dev.editforge.io.Tables;
import dev.editforge.spark.PipelineStage;
import dev.editforge.spark.StageContext;
import dev.editforge.spark.StagePlan;
import java.util.List;

/**
 * The generate stage of {@code editforge run}: {@link SelfEditJob} and/or {@link ReasoningJob}, in
 * the order {@code editforge.generate.what} lists them (default: self-edits only). Each part notes
 * "nothing to do" without a model or without its input table, so a run without a model still
 * completes; the stage itself requires no table, since either part may be all there is.
 */
public final class GenerateJob implements PipelineStage {
  @Override
  public String name() {
    return SelfEditJob.STAGE;
  }

  @Override
  public StagePlan plan(StageContext ctx) throws Exception {
    StagePlan plan = new StagePlan(List.of(), List.of());
    for (String what : ctx.settings().generate().what()) {
      boolean reasoning = what.equals(GenerateSettings.REASONING);
      plan =
          plan.then(
              part(
                  ctx,
                  reasoning ? new ReasoningJob() : new SelfEditJob(),
                  reasoning ? "reasoning" : "self-edits"));
    }
    return plan;
  }

  /**
   * One part's plan, after the input checks the runner makes for a stage run on its own: an absent
   * input table is a note, one that did not complete is refused (exit 2).
   */
  static StagePlan part(StageContext ctx, PipelineStage part, String label) throws Exception {
    RunDir run = ctx.runDir();
    for (String t : part.requires()) {
      if (run.manifest(t).isEmpty()) {
        return StagePlan.nothingToDo(
            label
                + ": no "
                + t
                + " table in "
                + run.root()
                + " (run "
                + Tables.producer(t)
                + " first)");
      }
      StageTables.requireVerified(run, t, part.name());
    }
    return part.plan(ctx);
  }
}
