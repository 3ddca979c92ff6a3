package dev.editforge.cli;

import dev.editforge.ingest.IngestJob;
import dev.editforge.spark.PipelineStage;
import dev.editforge.ttt.ScoreJob;
import java.util.List;

/** The stages of {@code editforge run}, in order. Each skips itself when its outputs are up to date. */
public final class Pipeline {
  private Pipeline() {}

  public static List<PipelineStage> stages() {
    return List.of(new IngestJob(), new ScoreJob());
  }
}
