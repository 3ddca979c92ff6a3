package dev.editforge.cli;

import dev.editforge.io.SealRunFile;
import dev.editforge.io.UnusableInputException;
import dev.editforge.judge.JudgeEvaluation;
import dev.editforge.spark.ExitCodes;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code editforge evaluate-judge --seal-run FILE}: how well each local judge agrees with SEAL's
 * GPT-4.1 verdicts in a SEAL ranking run. Reads one local file; starts no Spark.
 */
@Command(
    name = "evaluate-judge",
    description = {
      "Measure every local judge against GPT-4.1's verdicts in a SEAL run file.",
      "The run file is SEAL's TTT-scoring output (e.g. rank_iter0.json). Prints the agreement table; the last line is JUDGE best=<judge> kappa=<x> accuracy=<x> n=<judgments>. Thresholds come from editforge.judge.f1-threshold and recall-threshold."
    },
    footer = {"%nExample:", "  editforge evaluate-judge --seal-run rank_iter0.json"})
public final class EvaluateJudgeCommand extends StageCommand {
  @Option(
      names = "--seal-run",
      required = true,
      paramLabel = "FILE",
      description =
          "SEAL's TTT-scoring output (query_server.py run_*.json, e.g. rank_iter0.json): a local"
              + " file or a Hadoop URI (hdfs://, s3a://, file:/)")
  String sealRun;

  @Override
  protected int execute(Launch launch) {
    // spark.hadoop.* settings (s3a credentials, an HDFS name service) apply to the SEAL run too
    org.apache.hadoop.conf.Configuration conf = launch.hadoopConf();
    if (!SealRunFile.isUri(sealRun) && !Files.isRegularFile(Path.of(sealRun))) {
      throw new UnusableInputException(
          "SEAL run file " + sealRun + " does not exist or is not a file");
    }
    JudgeEvaluation.run(sealRun, conf, console(), launch.settings().judge());
    return ExitCodes.OK;
  }
}
