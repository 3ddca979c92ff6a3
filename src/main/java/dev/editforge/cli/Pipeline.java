package dev.editforge.cli;

import dev.editforge.embed.EmbedJob;
import dev.editforge.index.IndexJob;
import dev.editforge.ingest.IngestJob;
import dev.editforge.retrieve.RetrieveJob;
import dev.editforge.spark.PipelineStage;
import java.util.List;

/**
 * The stages of {@code editforge run}, in order (ingest, embed, index, retrieve, generate, score,
 * select, finetune, evaluate as they land). Each skips itself when its outputs are up to date.
 */
public final class Pipeline {
  private Pipeline() {}

  public static List<PipelineStage> stages() {
    // select joins the list once generate and score produce its inputs in the same run.
    // retrieve searches editforge.retrieve.queries (default: the articles' questions) and skips,
    // with a message, when that is empty or there is no index or articles table.
    return List.of(new IngestJob(), new EmbedJob(), new IndexJob(), new RetrieveJob(true));
  }
}
