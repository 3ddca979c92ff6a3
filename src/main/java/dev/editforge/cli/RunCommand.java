package dev.editforge.cli;

import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

/**
 * {@code editforge run}: every stage in order. A stage whose inputs and config are unchanged skips
 * itself, so a rerun after a failure or a kill resumes after the last completed stage.
 */
@Command(
    name = "run",
    description = {"Run the pipeline's stages in order, resuming after the last completed one."},
    footer = {
      "%nExample:",
      "  editforge run --run-dir runs/r1 --input squad:articles.json --to select"
    })
public final class RunCommand extends StageCommand {
  @Mixin IngestInputs inputs = new IngestInputs();

  @Option(
      names = "--to",
      paramLabel = "STAGE",
      description =
          "Stop after this stage (ingest, embed, index, retrieve, generate, score, select, finetune, evaluate)")
  String to;

  @Override
  public Map<String, Object> flagOverrides() {
    return inputs.overrides();
  }

  @Override
  protected boolean plansStages() {
    return true;
  }

  @Override
  protected int execute(Launch launch) throws Exception {
    int code = runStages(launch, Pipeline.stagesUpTo(to));
    if (launch.dryRun()) {
      return code;
    }
    ReportCommand.writeAfterRun(launch, console());
    return code;
  }
}
