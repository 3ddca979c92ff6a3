package dev.editforge.cli;

import dev.editforge.embed.EmbedJob;
import picocli.CommandLine.Command;

@Command(
    name = "embed",
    description = {
      "Embed the passages table into the embeddings table on the executors.",
      "The text embedded is title + \" \" + text, with one encoder per executor JVM (editforge.embed.*); rejects go to embeddings/_rejects."
    },
    footer = {"%nExample:", "  editforge embed --run-dir runs/r1"})
public final class EmbedCommand extends StageCommand {
  @Override
  protected boolean plansStages() {
    return true;
  }

  @Override
  protected int execute(Launch launch) throws Exception {
    return runStage(launch, new EmbedJob());
  }
}
