package dev.editforge.cli;

import dev.editforge.ttt.ScoreJob;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "score",
    description = {
      "Score every self-edit by test-time training.",
      "Trains a LoRA adapter on the edit, answers the article's questions before and after, and writes ttt_scores (one row per edit and repeat). Results are committed every editforge.ttt.commit-every articles; a killed run resumes."
    },
    footer = {
      "%nExample:",
      "  editforge score --run-dir runs/r1 --model Qwen/Qwen2.5-0.5B-Instruct \\",
      "      --eval-times 3"
    })
public final class ScoreCommand extends StageCommand {
  @Option(
      names = "--model",
      paramLabel = "M",
      description = "Base model: a local HF directory or a hub id (editforge.ttt.model)")
  String model;

  @Option(
      names = "--judge",
      paramLabel = "NAME",
      description =
          "Who grades answers: llm or a local judge such as token-recall (editforge.judge.kind)")
  String judge;

  @Option(
      names = "--endpoint",
      paramLabel = "URL",
      description =
          "OpenAI-compatible server for the llm judge and vLLM mode (editforge.remote.endpoint)")
  String endpoint;

  @Option(
      names = "--eval-times",
      paramLabel = "N",
      description = "Repeats per edit (editforge.ttt.eval-times)")
  Integer evalTimes;

  @Option(names = "--seed", paramLabel = "S", description = "Base seed (editforge.ttt.seed)")
  Long seed;

  @Override
  public Map<String, Object> flagOverrides() {
    return given(
        "ttt.model",
        model,
        "judge.kind",
        judge,
        "remote.endpoint",
        endpoint,
        "ttt.eval-times",
        evalTimes,
        "ttt.seed",
        seed);
  }

  @Override
  protected boolean plansStages() {
    return true;
  }

  @Override
  protected int execute(Launch launch) throws Exception {
    return runStage(launch, new ScoreJob());
  }
}
