package dev.editforge.cli;

import dev.editforge.config.GenerateSettings;
import dev.editforge.generate.ReasoningJob;
import dev.editforge.generate.SealImportJob;
import dev.editforge.generate.SelfEditJob;
import dev.editforge.spark.ExitCodes;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code editforge generate}: fills {@code self_edits} from {@code articles} ({@code --what
 * self-edits}, the default) or {@code reasoning} from {@code problems} ({@code --what reasoning})
 * with a local or remote LLM, or imports SEAL's synthetic data ({@code --import-seal FILE}). Each
 * flag is a setting override (it wins over {@code --set}).
 */
@Command(
    name = "generate",
    description = {
      "Generate self-edits or reasoning traces with a local model or an OpenAI-compatible server.",
      "Self-edits: articles -> self_edits (--what self-edits, the default); reasoning traces: problems -> reasoning (--what reasoning). A local model runs on every executor; --backend openai sends the prompts to a server. A rerun generates only what is missing. --import-seal FILE instead reads SEAL's synthetic data (e.g. base_val.json) into the articles and self_edits tables without generating."
    },
    footer = {
      "%nExamples:",
      "  editforge generate --run-dir runs/r1 --model Qwen/Qwen2.5-0.5B-Instruct \\",
      "      --k 5",
      "  editforge generate --run-dir runs/r1 --backend openai \\",
      "      --endpoint http://gpu-1:8000/v1 --model served-name"
    })
public final class GenerateCommand extends StageCommand {
  @Option(
      names = "--import-seal",
      paramLabel = "FILE",
      description =
          "SEAL synthetic-data JSON to import into articles + self_edits (local path or Hadoop URI)")
  String importSeal;

  @Option(
      names = "--what",
      paramLabel = "WHAT",
      defaultValue = GenerateSettings.SELF_EDITS,
      description = "self-edits (default) or reasoning")
  String what;

  @Option(
      names = "--backend",
      paramLabel = "local|openai",
      description = "editforge.generate.backend")
  String backend;

  @Option(
      names = "--model",
      paramLabel = "M",
      description =
          "local model directory or hub id (Org/Name[@rev]); with --backend openai the served model name "
              + "(editforge.generate.model)")
  String model;

  @Option(
      names = "--endpoint",
      paramLabel = "URL",
      description = "OpenAI-compatible base URL (editforge.remote.endpoint)")
  String endpoint;

  @Option(
      names = "--k",
      paramLabel = "N",
      description = "self-edits per article (editforge.generate.self-edit.k)")
  Integer k;

  @Option(
      names = "--n",
      paramLabel = "N",
      description = "traces per question (editforge.generate.reasoning.samples)")
  Integer n;

  @Option(
      names = "--prompt-key",
      paramLabel = "KEY",
      description = "self-edit template (editforge.generate.self-edit.prompt-key)")
  String promptKey;

  @Option(
      names = "--seed",
      paramLabel = "S",
      description =
          "base seed of the chosen --what (editforge.generate.self-edit.seed or generate.reasoning.seed)")
  Long seed;

  @Option(
      names = "--recipe",
      paramLabel = "default|logic-sft",
      description =
          "reasoning: the prompts; logic-sft = seed 004's teacher prompts, system role included"
              + " (editforge.generate.reasoning.recipe)")
  String recipe;

  @Option(
      names = "--only-agreeing",
      description =
          "reasoning: keep only agreeing traces (editforge.generate.reasoning.only-agreeing)")
  Boolean onlyAgreeing;

  @Override
  public Map<String, Object> flagOverrides() {
    return given(
        "generate.backend",
        backend,
        "generate.model",
        model,
        "remote.endpoint",
        endpoint,
        "generate.self-edit.k",
        k,
        "generate.reasoning.samples",
        n,
        "generate.self-edit.prompt-key",
        promptKey,
        GenerateSettings.REASONING.equals(what)
            ? "generate.reasoning.seed"
            : "generate.self-edit.seed",
        seed,
        "generate.reasoning.only-agreeing",
        onlyAgreeing,
        "generate.reasoning.recipe",
        recipe);
  }

  @Override
  protected boolean plansStages() {
    return true;
  }

  @Override
  protected int execute(Launch launch) throws Exception {
    if (importSeal != null) {
      return runStage(launch, new SealImportJob(importSeal));
    }
    GenerateSettings g = launch.settings().generate();
    if (g.local() && g.model().isEmpty()) {
      console()
          .println(
              "generate: no model: give --model DIR|ORG/NAME (or editforge.generate.model), "
                  + "--backend openai --endpoint URL, or --import-seal FILE");
      return ExitCodes.USAGE;
    }
    return switch (what) {
      case GenerateSettings.SELF_EDITS -> runStage(launch, new SelfEditJob());
      case GenerateSettings.REASONING -> runStage(launch, new ReasoningJob());
      default -> {
        console()
            .println(
                "generate: --what must be "
                    + String.join(" or ", GenerateSettings.WHATS)
                    + ", not "
                    + what);
        yield ExitCodes.USAGE;
      }
    };
  }
}
