package dev.editforge.cli;

import dev.editforge.llm.GenerateText;
import dev.editforge.llm.hub.HubClient;
import dev.editforge.llm.hub.HubSettings;
import dev.editforge.spark.ExitCodes;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** {@code editforge generate-text}: try a model on one prompt, without Spark. */
@Command(
    name = "generate-text",
    description = {
      "Complete one prompt with a local or hub model and print the prompt and its completion."
    },
    footer = {
      "%nExample:",
      "  editforge generate-text --model Qwen/Qwen2.5-0.5B-Instruct \\",
      "      --prompt 'The capital of France is'"
    })
public final class GenerateTextCommand extends StageCommand {
  @Option(
      names = "--model",
      required = true,
      paramLabel = "DIR|HUB_ID",
      description = "Local HF-format directory or hub id (Org/Name[@rev])")
  String model;

  @Option(names = "--prompt", required = true, paramLabel = "TEXT", description = "The raw prompt")
  String prompt;

  @Option(
      names = "--max-new-tokens",
      defaultValue = "64",
      description = "Token budget (default ${DEFAULT-VALUE})")
  int maxNewTokens;

  @Option(names = "--temperature", defaultValue = "0", description = "0 = greedy (default)")
  double temperature;

  @Option(
      names = "--seed",
      defaultValue = "0",
      description = "Sampling seed (default ${DEFAULT-VALUE})")
  long seed;

  @Option(
      names = "--keep-special-tokens",
      description =
          "Keep special and added tokens (e.g. Self-RAG's [Retrieval], <paragraph>) in the printed"
              + " completion; by default they are skipped, as vLLM and transformers do")
  boolean keepSpecialTokens;

  @Override
  protected int execute(Launch launch) {
    Path dir;
    try (HubClient hub = new HubClient(HubSettings.fromEnvironment())) {
      dir = hub.resolve(model);
    }
    return GenerateText.run(
            dir,
            prompt,
            maxNewTokens,
            temperature,
            seed,
            keepSpecialTokens,
            launch.settings().llm(),
            console(),
            System.err)
        ? ExitCodes.OK
        : ExitCodes.FAILURE;
  }
}
