package dev.editforge.llm;

import ai.djl.Device;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.List;

/**
 * The logic of {@code editforge generate-text --model DIR --prompt TEXT [--max-new-tokens N]
 * [--temperature T] [--seed S] [--keep-special-tokens]}: loads a local model, completes one raw
 * prompt and prints the prompt followed by its completion (so greedy output reads as one text, as
 * llama2.c prints it).
 */
public final class GenerateText {
  private GenerateText() {}

  /** Runs it; false (after one line on {@code err}) when the request failed. */
  public static boolean run(
      Path model,
      String prompt,
      int maxNewTokens,
      double temperature,
      long seed,
      LlmSettings settings,
      PrintStream out,
      PrintStream err) {
    return run(model, prompt, maxNewTokens, temperature, seed, false, settings, out, err);
  }

  /**
   * As above; {@code keepSpecialTokens} prints added/special tokens such as {@code [Retrieval]}.
   */
  public static boolean run(
      Path model,
      String prompt,
      int maxNewTokens,
      double temperature,
      long seed,
      boolean keepSpecialTokens,
      LlmSettings settings,
      PrintStream out,
      PrintStream err) {
    SamplingParams sampling =
        new SamplingParams(
            maxNewTokens, temperature, 1.0, 0, 1, List.of(), List.of(), seed, !keepSpecialTokens);
    try (LocalGenerator generator =
        new LocalGenerator(DecoderLoader.load(model, Device.cpu(), settings), settings, true)) {
      GenerationResult result =
          generator.generate(List.of(GenerationRequest.text("cli", prompt, sampling))).get(0);
      if (!result.ok()) {
        err.println("generate-text: " + result.error());
        return false;
      }
      out.println(prompt + result.completions().get(0).text());
      return true;
    }
  }
}
