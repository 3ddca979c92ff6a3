package dev.editforge.cli;

import dev.editforge.retrieve.SelfRagAnswerJob;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "selfrag-answer",
    description = {
      "Answer questions the Self-RAG way over the run's index: the model decides whether to retrieve (adaptive), answers once per top-ndocs passage and keeps the answer its own reflection tokens rate best.",
      "Short form (default) or long form (segment-level beam search, --long-form). Writes <run-dir>/selfrag_answers/ (per question: retrieved?, passage ids, candidate scores, answer). The model must have Self-RAG's 15 reflection tokens. Settings: editforge.selfrag.*."
    },
    footer = {
      "%nExample:",
      "  editforge selfrag-answer --run-dir runs/r1 --mode adaptive --model selfrag/selfrag_llama2_7b \\",
      "      --questions ../shared/data/selfrag/popqa_longtail.jsonl"
    })
public final class SelfRagAnswerCommand extends StageCommand {
  @Option(
      names = "--mode",
      paramLabel = "adaptive|always|never",
      description = "Retrieval mode (sets editforge.selfrag.mode)")
  String mode;

  @Option(
      names = "--questions",
      paramLabel = "FILE",
      description = "JSON/JSONL questions, local or Hadoop URI (sets editforge.selfrag.questions)")
  String questions;

  @Option(
      names = "--model",
      paramLabel = "DIR|HUB_ID",
      description =
          "Self-RAG model; with backend openai the served name (sets editforge.selfrag.model)")
  String model;

  @Option(
      names = "--ndocs",
      paramLabel = "N",
      description = "Passages per question from the index (sets editforge.selfrag.ndocs)")
  Integer ndocs;

  @Option(
      names = "--max-questions",
      paramLabel = "N",
      description = "Answer the first N questions only (sets editforge.selfrag.max-questions)")
  Integer maxQuestions;

  @Option(
      names = "--long-form",
      description = "Segment-level beam search (sets editforge.selfrag.long-form)")
  Boolean longForm;

  @Option(
      names = "--backend",
      paramLabel = "local|openai",
      description = "local DJL model or editforge.remote's server (sets editforge.selfrag.backend)")
  String backend;

  @Override
  public Map<String, Object> flagOverrides() {
    return given(
        "selfrag.mode",
        mode,
        "selfrag.questions",
        questions,
        "selfrag.model",
        model,
        "selfrag.ndocs",
        ndocs,
        "selfrag.max-questions",
        maxQuestions,
        "selfrag.long-form",
        longForm,
        "selfrag.backend",
        backend);
  }

  @Override
  protected boolean plansStages() {
    return true;
  }

  @Override
  protected int execute(Launch launch) throws Exception {
    return runStage(launch, new SelfRagAnswerJob());
  }
}
