package dev.editforge.cli;

import dev.editforge.io.RunDir;
import dev.editforge.report.ReportWriter;
import dev.editforge.spark.ExitCodes;
import dev.editforge.spark.SparkSessions;
import java.io.PrintStream;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code editforge report}: the run as one self-contained HTML page ({@link ReportWriter}). Reads
 * only: it starts Spark without the stage runner, so it leaves no {@code _runs/} record and can
 * describe a run it may not write into (with {@code --out}).
 */
@Command(
    name = "report",
    description = {
      "Write the run as one self-contained HTML page.",
      "Shows the stage timeline, counts per table, rejects, TTT gains, selection, loss curves,"
          + " evaluations, rounds and the continual matrix; default <run-dir>/report.html."
    },
    footer = {"%nExample:", "  editforge report --run-dir runs/r1 --out /tmp/r1-report.html"})
public final class ReportCommand extends StageCommand {
  private static final Logger LOG = LoggerFactory.getLogger(ReportCommand.class);

  @Option(
      names = "--out",
      paramLabel = "FILE",
      description = "Where to write the page (default <run-dir>/" + ReportWriter.FILE + ")")
  String out;

  @Override
  protected int execute(Launch launch) {
    SparkSession spark = SparkSessions.getOrCreate(launch.settings().spark(), console());
    RunDir run = new RunDir(launch.settings().runDir(), spark.sparkContext().hadoopConfiguration());
    console().println("report: " + ReportWriter.write(spark, run, out));
    return ExitCodes.OK;
  }

  /**
   * The report a command writes after its stages ran ({@code run}, {@code demo}, {@code iterate}),
   * with its path printed last. The stages' work stands whether or not the report can be drawn, so
   * a failure here is said in one line and does not change the exit code.
   */
  static void writeAfterRun(Launch launch, PrintStream console) {
    try {
      var ctx = launch.context();
      console.println("report: " + ReportWriter.write(ctx.spark(), ctx.runDir(), null));
    } catch (RuntimeException e) {
      LOG.warn("the run report could not be written", e);
      console.println("report: not written (" + e.getMessage() + "; details in the log)");
    }
  }
}
