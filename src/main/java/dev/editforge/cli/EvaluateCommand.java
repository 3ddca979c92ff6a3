package dev.editforge.cli;

import dev.editforge.evaluate.EvaluateJob;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "evaluate",
    description = {
      "SEAL's no-context QA accuracy (the answer prompt without the passage) of the base and the tuned model",
      "on held-out articles, graded by editforge.judge; writes <run-dir>/evaluation/ (per-article and",
      "per-question Parquet, summary.json) and prints the table. Settings: editforge.evaluate.*"
    })
public final class EvaluateCommand extends StageCommand {
  @Option(
      names = "--model",
      paramLabel = "DIR|HUB_ID",
      description = "Base model (sets editforge.evaluate.model; default editforge.finetune.model)")
  String model;

  @Option(
      names = "--tuned",
      paramLabel = "DIR|HUB_ID",
      description =
          "Tuned model (sets editforge.evaluate.tuned; default <run-dir>/finetune/merged)")
  String tuned;

  @Option(
      names = "--articles",
      paramLabel = "TABLE",
      description =
          "Parquet articles table of held-out articles (sets editforge.evaluate.articles; default this run's)")
  String articles;

  @Option(
      names = "--max-articles",
      paramLabel = "N",
      description = "Evaluate at most N articles (sets editforge.evaluate.max-articles)")
  Integer maxArticles;

  @Option(
      names = "--gpus",
      paramLabel = "N",
      description = "GPUs for the generation task (sets editforge.evaluate.gpus)")
  Integer gpus;

  @Override
  public Map<String, Object> flagOverrides() {
    return given(
        "evaluate.model",
        model,
        "evaluate.tuned",
        tuned,
        "evaluate.articles",
        articles,
        "evaluate.max-articles",
        maxArticles,
        "evaluate.gpus",
        gpus);
  }

  @Override
  protected int execute(Launch launch) throws Exception {
    return runStage(launch, EvaluateJob.command());
  }
}
