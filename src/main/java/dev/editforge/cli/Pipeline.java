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

  /** The stages up to and including {@code last} (all when null). */
  public static List<PipelineStage> stagesUpTo(String last) {
    List<PipelineStage> all = stages();
    if (last == null) {
      return all;
    }
    for (int i = 0; i < all.size(); i++) {
      if (all.get(i).name().equals(last)) {
        return all.subList(0, i + 1);
      }
    }
    throw new dev.editforge.config.SettingsException(
        "run --to "
            + last
            + ": no such stage; stages: "
            + String.join(", ", all.stream().map(PipelineStage::name).toList()));
  }

  public static List<PipelineStage> stages() {
    // retrieve searches editforge.retrieve.queries (default: the articles' questions) and skips,
    // with a message, when that is empty or there is no index or articles table.
    return List.of(
        new IngestJob(),
        new EmbedJob(),
        new IndexJob(),
        new RetrieveJob(),
        new GenerateJob(),
        new ScoreJob(),
        new SelectJob(),
        new FinetuneJob(),
        new EvaluateJob());
  }
}
