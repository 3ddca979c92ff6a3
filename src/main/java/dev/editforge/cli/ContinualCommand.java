package dev.editforge.cli;

import dev.editforge.continual.ContinualJob;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "continual",
    description = {
      "Run SEAL's continual self-edit experiment, which measures forgetting.",
      "Each sequence edits N sampled articles in turn (the current model writes a self-edit, a LoRA adapter is trained on it and merged), measuring accuracy on the articles edited so far after every step. Writes the continual table and continual/_seal/continual_overall_results.json in SEAL's shape; a killed run resumes."
    },
    footer = {
      "%nExample:",
      "  editforge continual --run-dir runs/r1 --model Qwen/Qwen2.5-0.5B-Instruct \\",
      "      --sequences 8 --articles 8"
    })
public final class ContinualCommand extends StageCommand {
  @Option(
      names = "--model",
      paramLabel = "M",
      description =
          "Model every sequence starts from: a local HF directory or a hub id (editforge.ttt.model)")
  String model;

  @Option(
      names = "--sequences",
      paramLabel = "S",
      description = "Sequences (editforge.continual.sequences; SEAL: 8)")
  Integer sequences;

  @Option(
      names = "--articles",
      paramLabel = "N",
      description = "Articles per sequence (editforge.continual.articles; SEAL: 8)")
  Integer articles;

  @Option(names = "--seed", paramLabel = "S", description = "Seed (editforge.continual.seed)")
  Long seed;

  @Option(
      names = "--keep-models",
      description = "Keep every step's merged model (editforge.continual.keep-models)")
  Boolean keepModels;

  @Option(
      names = "--judge",
      paramLabel = "NAME",
      description =
          "Who grades answers: llm or a local judge such as token-recall (editforge.judge.kind)")
  String judge;

  @Override
  public Map<String, Object> flagOverrides() {
    return given(
        "ttt.model",
        model,
        "continual.sequences",
        sequences,
        "continual.articles",
        articles,
        "continual.seed",
        seed,
        "continual.keep-models",
        keepModels,
        "judge.kind",
        judge);
  }

  @Override
  protected boolean plansStages() {
    return true;
  }

  @Override
  protected int execute(Launch launch) throws Exception {
    return runStage(launch, new ContinualJob());
  }
}
