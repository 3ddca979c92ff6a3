package dev.editforge.cli;

import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code editforge iterate}: SEAL's ReST^EM rounds. Each round's policy writes self-edits for new
 * training articles and is the TTT base that scores them; the best edits fine-tune the next policy;
 * every round is evaluated on the held-out articles. See {@link IterateLoop}.
 */
@Command(
    name = "iterate",
    description = {
      "Run SEAL's ReST^EM rounds and write the rounds table.",
      "Each round generates, scores, selects, fine-tunes and evaluates into <run-dir>/round-<r>/; round r+1's policy is round r's merged model."
    },
    footer = {
      "%nExample:",
      "  editforge iterate --run-dir runs/seal --rounds 2 --model Qwen/Qwen2.5-7B \\",
      "      --train squad:train.json --heldout squad:val.json"
    })
public final class IterateCommand extends StageCommand {
  @Option(
      names = "--rounds",
      required = true,
      paramLabel = "N",
      description = "Rounds to run (SEAL: 2)")
  int rounds;

  @Option(
      names = "--model",
      required = true,
      paramLabel = "DIR|HUB_ID",
      description = "Round 0's policy and the base model of every round's SFT and evaluation")
  String model;

  @Option(
      names = "--train",
      required = true,
      paramLabel = "squad:FILE|TABLE",
      description =
          "Training articles: a SQuAD file (ingested into <run-dir>/train) or an articles table")
  String train;

  @Option(
      names = "--heldout",
      required = true,
      paramLabel = "squad:FILE|TABLE",
      description =
          "Held-out evaluation articles (none may be a training article): a SQuAD file or an articles table")
  String heldout;

  @Option(
      names = "--from",
      paramLabel = "base|previous",
      description =
          "Where each round's SFT starts: base (default, ReST^EM's rule) or previous (the last round's model)")
  IterateLoop.From from = IterateLoop.From.base;

  @Override
  protected int execute(Launch launch) throws Exception {
    int code = new IterateLoop(this, train, heldout, model, rounds, from).run(launch);
    ReportCommand.writeAfterRun(launch, console());
    return code;
  }
}
