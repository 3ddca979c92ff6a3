package dev.editforge.cli;

import dev.editforge.embed.EmbedJob;
import dev.editforge.evaluate.EvaluateJob;
import dev.editforge.finetune.FinetuneJob;
import dev.editforge.generate.GenerateJob;
import dev.editforge.index.IndexJob;
import dev.editforge.ingest.IngestJob;
import dev.editforge.retrieve.RetrieveJob;
import dev.editforge.select.SelectJob;
import dev.editforge.spark.PipelineStage;
import dev.editforge.ttt.ScoreJob;
import java.util.List;

/**
 * The stages of {@code editforge run}, in order (ingest, embed, index, retrieve, generate, score,
 * select, finetune, evaluate as they land). Each skips itself when its outputs are up to date.
 * Generate runs what {@code editforge.generate.what} lists (self-edits by default) and says
 * "nothing to do" when no model is configured.
 */
public final class Pipeline {
  private Pipeline() {}

  /** Every stage name in pipeline order, including those {@link #stages()} does not run yet. */
  public static final List<String> ORDER = List.of(
      "ingest", "embed", "index", "retrieve", "generate", "score", "select", FinetuneJob.STAGE, EvaluateJob.STAGE);

  public static List<PipelineStage> stages() {
    // retrieve searches editforge.retrieve.queries (default: the articles' questions) and skips,
    // with a message, when that is empty or there is no index or articles table.
    return List.of(new IngestJob(), new EmbedJob(), new IndexJob(), new RetrieveJob(true), new GenerateJob(),
        new ScoreJob(), new SelectJob(), new FinetuneJob(), new EvaluateJob());
  }

}
