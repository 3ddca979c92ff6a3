package dev.editforge.generate;

import dev.editforge.io.Manifest;
import dev.editforge.spark.PipelineStage;
import dev.editforge.spark.StageContext;
import dev.editforge.spark.StageOutcome;
import java.util.ArrayList;
import java.util.List;

/**
 * The generate stage of {@code editforge run}: {@link SelfEditJob} and/or {@link ReasoningJob},
 * in the order {@code editforge.generate.what} lists them (default: self-edits only). Each says
 * "nothing to do" without a model or without its input table, so a run without a model still
 * completes. Stops at the first part that does not exit 0.
 */
public final class GenerateJob implements dev.editforge.spark.LegacyStage {
  @Override
  public String name() {
    return SelfEditJob.STAGE;
  }

  @Override
  public StageOutcome run(StageContext ctx) throws Exception {
    List<Manifest> manifests = new ArrayList<>();
    List<String> messages = new ArrayList<>();
    for (String what : ctx.settings().generate().what()) {
      PipelineStage part = what.equals(GenerateSettings.REASONING) ? new ReasoningJob() : new SelfEditJob();
      StageOutcome o = ((dev.editforge.spark.LegacyStage) part).run(ctx);
      manifests.addAll(o.manifests());
      if (o.message() != null) {
        messages.add(o.message());
      }
      if (o.exitCode() != 0) {
        return new StageOutcome(name(), manifests, o.exitCode(), String.join("\n", messages));
      }
    }
    return new StageOutcome(name(), manifests, 0, messages.isEmpty() ? null : String.join("; ", messages));
  }
}
