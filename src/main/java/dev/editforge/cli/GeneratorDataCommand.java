package dev.editforge.cli;

import dev.editforge.critique.GeneratorDataJob;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code editforge generator-data}: Self-RAG's generator rows from the critic labels. */
@Command(
    name = "generator-data",
    description = {
      "Assemble Self-RAG's generator training rows from critic labels.",
      "critic_labels -> selfrag_sft and exports/selfrag_train.json(l). Inserts [Retrieval]<paragraph>...</paragraph>[Relevant]...[Fully supported]...[Utility:5] and the other reflection tokens by Self-RAG's rules (postprocess_data.py). select mixes the rows into sft with source selfrag."
    },
    footer = {"%nExamples:", "  editforge generator-data --run-dir runs/r1 --seed 7"})
public final class GeneratorDataCommand extends StageCommand {
  @Option(
      names = "--seed",
      paramLabel = "S",
      description = "seed of every draw (editforge.generator-data.seed)")
  Long seed;

  @Override
  public Map<String, Object> flagOverrides() {
    return given("generator-data.seed", seed);
  }

  @Override
  protected boolean plansStages() {
    return true;
  }

  @Override
  protected int execute(Launch launch) throws Exception {
    return runStage(launch, new GeneratorDataJob());
  }
}
