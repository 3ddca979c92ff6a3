package dev.editforge.select;

import dev.editforge.io.Fingerprints;
import dev.editforge.io.RunDir;
import dev.editforge.io.SealRunFile;
import dev.editforge.io.StageTables;
import dev.editforge.io.Tables;
import dev.editforge.io.UnusableInputException;
import dev.editforge.spark.StageContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.fs.FileSystem;

/**
 * What {@code select} reads in this run, resolved before anything is computed: the SEAL ranking
 * file or the run's scores and self-edits, whether reasoning traces and instruction rows join, and
 * the fingerprints of all of them (the stage's fingerprint inputs, in a fixed order).
 *
 * @param sealRun the SEAL ranking file, or null to select from {@code ttt_scores} + {@code
 *     self_edits}
 * @param reasoning whether reasoning traces are wanted and the run has them
 * @param instructions whether instruction rows are drawn (a ratio above 0)
 */
record SelectInputs(
    String sealRun, boolean reasoning, boolean instructions, List<String> fingerprints) {
  SelectInputs {
    fingerprints = List.copyOf(fingerprints);
  }

  /** Checks every input is usable (exit 2 naming what to run otherwise) and fingerprints it. */
  static SelectInputs resolve(StageContext ctx) {
    SftSettings sft = SftSettings.of(ctx.settings());
    RunDir run = ctx.runDir();
    List<String> inputs = new ArrayList<>();
    String sealRun = null;
    if (sft.sealRun() != null) {
      // a local path is made absolute; a Hadoop URI (hdfs://, s3a://, file:/) is read as written
      org.apache.hadoop.fs.Path p =
          SealRunFile.isUri(sft.sealRun())
              ? new org.apache.hadoop.fs.Path(sft.sealRun())
              : new org.apache.hadoop.fs.Path(Path.of(sft.sealRun()).toAbsolutePath().toUri());
      sealRun = SealRunFile.isUri(sft.sealRun()) ? sft.sealRun() : Path.of(p.toUri()).toString();
      FileSystem fs = fs(ctx, p);
      boolean isFile;
      try {
        isFile = fs.getFileStatus(p).isFile();
      } catch (IOException e) {
        isFile = false;
      }
      if (!isFile) {
        throw new UnusableInputException(
            "SEAL run file "
                + sealRun
                + " (editforge.select.seal-run) does not exist or is not a file");
      }
      inputs.add("seal-run=" + Fingerprints.ofFile(fs, p));
    } else {
      inputs.add(usable(run, Tables.TTT_SCORES));
      inputs.add(usable(run, Tables.SELF_EDITS));
    }
    boolean reasoning = sft.reasoning().include() && run.manifest(Tables.REASONING).isPresent();
    if (reasoning) {
      inputs.add(usable(run, Tables.REASONING));
      inputs.add(usable(run, Tables.PROBLEMS));
    }
    boolean instructions = sft.mix().instructionRatio() > 0;
    if (instructions) {
      inputs.add(usable(run, Tables.INSTRUCTIONS));
    }
    return new SelectInputs(sealRun, reasoning, instructions, inputs);
  }

  /** The table's fingerprint once it is known to be completed. */
  private static String usable(RunDir run, String table) {
    if (!StageTables.isUsable(run, table)) {
      throw UnusableInputException.table(SelectJob.STAGE, run, table, Tables.producer(table));
    }
    return Fingerprints.ofTable(run, table);
  }

  private static FileSystem fs(StageContext ctx, org.apache.hadoop.fs.Path p) {
    try {
      return p.getFileSystem(ctx.hadoopConf().get());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
