package dev.editforge.cli;

import dev.editforge.finetune.FinetuneJob;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "finetune",
    description = {
      "LoRA-tune a base model on an sft table as one GPU-scheduled Spark task.",
      "Epochs or max steps, schedule + warm-up, gradient accumulation, an eval split with eval loss, checkpoints every N steps (a rerun resumes from the latest), the best checkpoint by eval loss kept. Writes <run-dir>/finetune/: adapter/ (PEFT) and merged/ (Hugging Face layout). Settings: editforge.finetune.*."
    },
    footer = {
      "%nExample:",
      "  editforge finetune --run-dir runs/r1 --model Qwen/Qwen2.5-0.5B-Instruct \\",
      "      --batching bfd --max-steps 200"
    })
public final class FinetuneCommand extends StageCommand {
  @Option(
      names = "--model",
      paramLabel = "DIR|HUB_ID",
      description = "Base model (sets editforge.finetune.model)")
  String model;

  @Option(
      names = "--sft",
      paramLabel = "PATH",
      description =
          "sft Parquet table to train on instead of this run's (sets editforge.finetune.sft)")
  String sft;

  @Option(
      names = "--batching",
      paramLabel = "MODE",
      description = "padding | packed | concat | bfd (sets editforge.finetune.batching)")
  String batching;

  @Option(
      names = "--max-steps",
      paramLabel = "N",
      description = "Optimizer steps; overrides epochs (sets editforge.finetune.max-steps)")
  Integer maxSteps;

  @Option(
      names = "--epochs",
      paramLabel = "N",
      description = "Passes over the training rows (sets editforge.finetune.epochs)")
  Integer epochs;

  @Option(
      names = "--gpus",
      paramLabel = "N",
      description = "GPUs for the training task; 0 = CPU (sets editforge.finetune.gpus)")
  Integer gpus;

  @Override
  public Map<String, Object> flagOverrides() {
    return given(
        "finetune.model",
        model,
        "finetune.sft",
        sft,
        "finetune.batching",
        batching,
        "finetune.max-steps",
        maxSteps,
        "finetune.epochs",
        epochs,
        "finetune.gpus",
        gpus);
  }

  @Override
  protected boolean plansStages() {
    return true;
  }

  @Override
  protected int execute(Launch launch) throws Exception {
    return runStage(launch, new FinetuneJob());
  }
}
