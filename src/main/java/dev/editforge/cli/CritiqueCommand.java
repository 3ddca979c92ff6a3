package dev.editforge.cli;

import dev.editforge.critique.CritiqueJob;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code editforge critique}: Self-RAG's critic labels ({@code critic_labels}) for the instruction
 * rows with outputs and their retrieved passages. Each flag is a setting override.
 */
@Command(
    name = "critique",
    description = {
      "Label Self-RAG's reflection tokens with a judge LLM into critic_labels.",
      "Asks Self-RAG's critic prompts byte for byte (retrieval, multi-retrieval, relevance, support, utility) of an OpenAI-compatible server (--backend openai, the default) or a local model (--backend local --model DIR). A failed or unparseable reply is a row with its reason; a rerun asks only those. Also writes Self-RAG's critic training JSONL to <run-dir>/exports/."
    },
    footer = {
      "%nExamples:",
      "  editforge critique --run-dir runs/r1 \\",
      "      --endpoint https://api.openai.com/v1 --model gpt-4",
      "  editforge critique --run-dir runs/r1 --backend local \\",
      "      --model Qwen/Qwen2.5-0.5B-Instruct"
    })
public final class CritiqueCommand extends StageCommand {
  @Option(
      names = "--backend",
      paramLabel = "openai|local",
      description = "editforge.critique.backend")
  String backend;

  @Option(
      names = "--model",
      paramLabel = "M",
      description =
          "local: model directory or hub id; openai: served model name (editforge.critique.model)")
  String model;

  @Option(
      names = "--endpoint",
      paramLabel = "URL",
      description = "OpenAI-compatible base URL (editforge.remote.endpoint)")
  String endpoint;

  @Option(
      names = "--top-n",
      paramLabel = "N",
      description = "passages per sentence (editforge.critique.top-n)")
  Integer topN;

  @Option(
      names = "--max-concurrency",
      paramLabel = "N",
      description =
          "requests in flight per endpoint and executor (editforge.critique.max-concurrency)")
  Integer maxConcurrency;

  @Override
  public Map<String, Object> flagOverrides() {
    return given(
        "critique.backend",
        backend,
        "critique.model",
        model,
        "remote.endpoint",
        endpoint,
        "critique.top-n",
        topN,
        "critique.max-concurrency",
        maxConcurrency);
  }

  @Override
  protected boolean plansStages() {
    return true;
  }

  @Override
  protected int execute(Launch launch) throws Exception {
    return runStage(launch, new CritiqueJob());
  }
}
