package dev.editforge.cli;

import dev.editforge.select.SelectJob;
import java.nio.file.Path;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "select",
    description = {
      "Build the sft table and its export files.",
      "The best k self-edits per article (ttt_scores + self_edits, or a SEAL run file), plus reasoning traces, identity rows and instruction data as configured under editforge.select; then the configured export files (editforge.select.export.formats) go into <run-dir>/exports/."
    },
    footer = {"%nExample:", "  editforge select --run-dir runs/r1 --k 5"})
public final class SelectCommand extends StageCommand {
  @Option(
      names = "--seal-run",
      paramLabel = "FILE",
      description =
          "Select from SEAL's ranking output (e.g. rank_iter0.json) instead of the run's ttt_scores/self_edits "
              + "(sets editforge.select.seal-run); a local file or a Hadoop URI (hdfs://, s3a://, file:/)")
  String sealRun;

  @Option(
      names = "--k",
      paramLabel = "N",
      description = "Self-edits kept per article (sets editforge.select.k; SEAL: 1)")
  Integer k;

  @Override
  public Map<String, Object> flagOverrides() {
    return given(
        "select.seal-run",
        sealRun == null || dev.editforge.io.SealRunFile.isUri(sealRun)
            ? sealRun
            : Path.of(sealRun).toAbsolutePath().toString(),
        "select.k",
        k);
  }

  @Override
  protected boolean plansStages() {
    return true;
  }

  @Override
  protected int execute(Launch launch) throws Exception {
    return runStage(launch, new SelectJob());
  }
}
