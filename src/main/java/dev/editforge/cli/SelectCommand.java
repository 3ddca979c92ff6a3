package dev.editforge.cli;

import dev.editforge.select.SelectJob;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "select",
    description = {
      "Build the sft table: the best k self-edits per article (ttt_scores + self_edits, or a SEAL run file),",
      "plus reasoning traces, identity rows and instruction data as configured under editforge.select;",
      "then write the configured export files (editforge.select.export.formats) into <run-dir>/exports/."
    })
public final class SelectCommand extends StageCommand {
  @Option(
      names = "--seal-run",
      paramLabel = "FILE",
      description =
          "Select from SEAL's ranking output (e.g. rank_iter0.json) instead of the run's ttt_scores/self_edits "
              + "(sets editforge.select.seal-run)")
  Path sealRun;

  @Option(
      names = "--k",
      paramLabel = "N",
      description = "Self-edits kept per article (sets editforge.select.k; SEAL: 1)")
  Integer k;

  @Override
  public Map<String, Object> flagOverrides() {
    return given(
        "select.seal-run",
        sealRun == null ? null : sealRun.toAbsolutePath().toString(),
        "select.k",
        k);
  }

  @Override
  protected int execute(Launch launch) throws Exception {
    return runStage(launch, new SelectJob(false));
  }
}
