package dev.editforge.generate;

import dev.editforge.cli.ExitCodes;
import dev.editforge.cli.Launch;
import dev.editforge.cli.StageCommand;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code editforge generate}: fills {@code self_edits} (and {@code articles}) for scoring. Today
 * it imports SEAL's synthetic data ({@code --import-seal FILE}); each way of producing the
 * tables is one branch of {@link #execute}.
 */
@Command(name = "generate", description = {
    "Produce self-edits for scoring. --import-seal FILE reads SEAL's synthetic data (e.g. base_val.json:",
    "title, context, questions, completions, prompt per article) into the articles and self_edits tables",
    "without generating."})
public final class GenerateCommand extends StageCommand {
  @Option(names = "--import-seal", paramLabel = "FILE",
      description = "SEAL synthetic-data JSON to import into articles + self_edits (local path or Hadoop URI)")
  String importSeal;

  @Override
  protected int execute(Launch launch) throws Exception {
    if (importSeal != null) {
      return runStage(launch, new SealImportJob(importSeal));
    }
    console().println("generate: nothing to do: give --import-seal FILE");
    return ExitCodes.USAGE;
  }
}
