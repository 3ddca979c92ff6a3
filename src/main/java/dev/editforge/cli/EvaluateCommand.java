package dev.editforge.cli;

import dev.editforge.config.ConfigReader;
import dev.editforge.evaluate.EvaluateJob;
import dev.editforge.evaluate.IdentityProbe;
import dev.editforge.evaluate.IdentityProbeJob;
import dev.editforge.retrieve.SelfRagEvaluation;
import dev.editforge.ttt.SealEvaluationJob;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "evaluate",
    description = {
      "Compare the base and the tuned model's no-context QA accuracy on held-out articles.",
      "SEAL's answer prompt without the passage, graded by editforge.judge; writes <run-dir>/evaluation/ (per-article and per-question Parquet, summary.json) and prints the table. Settings: editforge.evaluate.*.",
      "--protocol selfrag runs Self-RAG's short-form evaluation instead: --questions FILE (question + answers, e.g. PopQA) retrieved from the run's index, answered in each of editforge.selfrag.eval-modes, match accuracy and retrieval rate per mode; writes <run-dir>/evaluation_selfrag/ and prints the table.",
      "--protocol seal runs SEAL's Table 2 on the held-out articles instead (no training, passage only, base-model self-edits, --policy self-edits; each trained by the score stage's TTT scorer), writes <run-dir>/evaluation_seal/ and prints the four columns."
    },
    footer = {
      "%nExample:",
      "  editforge evaluate --run-dir runs/r1 --model Qwen/Qwen2.5-0.5B-Instruct",
      "  editforge evaluate --run-dir runs/r1 --protocol selfrag --model selfrag/selfrag_llama2_7b \\",
      "      --questions ../shared/data/selfrag/popqa_longtail.jsonl"
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

  @Option(
      names = "--protocol",
      paramLabel = "qa|seal|selfrag",
      description =
          "qa: base vs tuned no-context accuracy (default); seal: SEAL's evaluation protocol; selfrag: Self-RAG's match accuracy per retrieval mode (sets editforge.evaluate.protocol)")
  String protocol;

  @Option(
      names = "--questions",
      paramLabel = "FILE",
      description =
          "selfrag protocol: JSON/JSONL questions with answers (sets editforge.selfrag.questions)")
  String questions;

  @Option(
      names = "--max-questions",
      paramLabel = "N",
      description =
          "selfrag protocol: the first N questions only (sets editforge.selfrag.max-questions)")
  Integer maxQuestions;

  @Option(
      names = "--policy",
      paramLabel = "DIR|HUB_ID",
      description =
          "seal protocol: the model that writes the policy edits, e.g. a round's merged model (sets editforge.evaluate.policy)")
  String policy;

  @Option(
      names = "--probe",
      paramLabel = "none|identity",
      description =
          "identity: seed 002's self-cognition probe instead: the identity questions asked of the base and the tuned model, side by side, and whether select.identity's name and author appear (sets editforge.evaluate.probe)")
  String probe;

  @Option(
      names = "--eval-times",
      paramLabel = "N",
      description = "seal protocol: TTT repeats per adapter (sets editforge.ttt.eval-times)")
  Integer evalTimes;

  @Override
  public Map<String, Object> flagOverrides() {
    boolean selfRag = "selfrag".equals(protocol);
    return given(
        selfRag ? "selfrag.model" : "evaluate.model",
        model,
        "evaluate.tuned",
        tuned,
        "evaluate.articles",
        articles,
        "evaluate.max-articles",
        maxArticles,
        "evaluate.gpus",
        gpus,
        "evaluate.protocol",
        protocol,
        "evaluate.policy",
        policy,
        "ttt.eval-times",
        evalTimes,
        "selfrag.questions",
        questions,
        "selfrag.max-questions",
        maxQuestions,
        "evaluate.probe",
        probe);
  }

  @Override
  protected boolean plansStages() {
    return true;
  }

  @Override
  protected int execute(Launch launch) throws Exception {
    if (IdentityProbe.PROBE.equals(probe(launch))) {
      IdentityProbe.of(launch.settings());
      return runStage(launch, new IdentityProbeJob());
    }
    if ("selfrag".equals(launch.settings().evaluate().protocol())) {
      // --model names the Self-RAG model here (evaluate.model is the QA protocol's base model).
      return runStage(launch, new SelfRagEvaluation());
    }
    if ("seal".equals(launch.settings().evaluate().protocol())) {
      return runStage(launch, new SealEvaluationJob());
    }
    return runStage(launch, new EvaluateJob());
  }

  /** {@code evaluate.probe}, checked: none or identity. */
  static String probe(Launch launch) {
    return new ConfigReader(launch.settings().raw().getConfig("editforge"), "editforge")
        .section("evaluate")
        .oneOf("probe", IdentityProbe.PROBES);
  }
}
