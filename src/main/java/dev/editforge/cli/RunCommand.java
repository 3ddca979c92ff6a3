package dev.editforge.cli;

import java.util.List;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code editforge run}: every stage in order. A stage whose inputs and config are unchanged skips
 * itself, so a rerun after a failure or a kill resumes after the last completed stage.
 */
@Command(name = "run", description = "Run the pipeline's stages in order, resuming after the last completed one")
public final class RunCommand extends StageCommand {
  @Option(names = "--input", paramLabel = "KIND:PATH", description = "Ingest input (replaces editforge.ingest.inputs); repeatable")
  List<String> inputs;

  @Override
  protected Map<String, Object> flagOverrides() {
    return inputs == null ? Map.of() : Map.of("ingest.inputs", inputs);
  }

  @Override
  protected int execute(Launch launch) throws Exception {
    return runStages(launch, Pipeline.stages());
  }
}
