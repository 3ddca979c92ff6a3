package dev.editforge.cli;

import dev.editforge.predict.PredictJob;
import dev.editforge.predict.PredictSettings;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code editforge predict}: the logic recipe's majority-vote answers into a submission file. */
@Command(
    name = "predict",
    description = {
      "Answer unlabeled logic problems with the tuned model as seed 004 does.",
      "The recipe's inference prompt, --voter sampled answers per question, the majority answer, --attempts retries while no answer wins, then the fallback letter. Writes <run-dir>/predictions/ (questions/ Parquet and submission.jsonl: the input's lines, each question with its \"answer\"). Settings: editforge.predict.*."
    },
    footer = {"%nExample:", "  editforge predict --run-dir runs/r1 --input logic:data/test.jsonl"})
public final class PredictCommand extends StageCommand {
  @Option(
      names = "--input",
      paramLabel = "logic:FILE",
      description = "The problems to answer, JSONL (sets editforge.predict.input)")
  String input;

  @Option(
      names = "--model",
      paramLabel = "DIR|HUB_ID",
      description =
          "Answering model (sets editforge.predict.model; default <run-dir>/finetune/merged)")
  String model;

  @Option(
      names = "--voter",
      paramLabel = "N",
      description = "Sampled answers per question and attempt (sets editforge.predict.voter)")
  Integer voter;

  @Option(
      names = "--attempts",
      paramLabel = "N",
      description = "Attempts while no answer wins (sets editforge.predict.attempts)")
  Integer attempts;

  @Option(
      names = "--gpus",
      paramLabel = "N",
      description = "GPUs for the generation task (sets editforge.predict.gpus)")
  Integer gpus;

  @Override
  public Map<String, Object> flagOverrides() {
    return given(
        "predict.input",
        input,
        "predict.model",
        model,
        "predict.voter",
        voter,
        "predict.attempts",
        attempts,
        "predict.gpus",
        gpus);
  }

  @Override
  protected boolean plansStages() {
    return true;
  }

  @Override
  protected int execute(Launch launch) throws Exception {
    PredictSettings.of(launch.settings());
    return runStage(launch, new PredictJob());
  }
}
