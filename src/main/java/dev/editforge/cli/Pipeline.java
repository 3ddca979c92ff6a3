package dev.editforge.cli;

import dev.editforge.generate.GenerateJob;
import dev.editforge.ingest.IngestJob;
import dev.editforge.spark.PipelineStage;
import java.util.List;

/**
 * The stages of {@code editforge run}, in order (ingest, embed, index, retrieve, generate, score,
 * select, finetune, evaluate as they land). Each skips itself when its outputs are up to date.
 * Generate runs what {@code editforge.generate.what} lists (self-edits by default) and says
 * "nothing to do" when no model is configured.
 */
public final class Pipeline {
  private Pipeline() {}

  public static List<PipelineStage> stages() {
    // select joins the list once score produces its inputs in the same run.
    return List.of(new IngestJob(), new GenerateJob());
  }
}
