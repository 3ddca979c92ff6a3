package dev.editforge.cli;

import dev.editforge.embed.EmbedJob;
import picocli.CommandLine.Command;

@Command(
    name = "embed",
    description = {
      "Embed the passages table (title + \" \" + text) on executors into the embeddings table,",
      "one encoder per executor JVM (editforge.embed.*); rejects go to embeddings/_rejects."
    })
public final class EmbedCommand extends StageCommand {
  @Override
  protected int execute(Launch launch) throws Exception {
    return runStage(launch, new EmbedJob());
  }
}
