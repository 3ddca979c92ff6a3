package dev.editforge.cli;

import java.util.ArrayList;
import java.util.List;
import picocli.CommandLine.Option;

/** The options every stage command takes. */
public final class CommonOptions {
  @Option(
      names = "--conf",
      paramLabel = "FILE",
      description =
          "HOCON overlay on reference.conf: a local file or a Hadoop URI (file:///, hdfs://, s3a://)"
              + " (default: the embedded conf/local.conf)")
  public String conf;

  @Option(
      names = "--set",
      paramLabel = "KEY=VALUE",
      description =
          "Override one setting, e.g. --set ttt.lr=1e-3 (the editforge. prefix is optional); repeatable")
  public List<String> sets = new ArrayList<>();

  @Option(
      names = "--run-dir",
      paramLabel = "DIR",
      description =
          "Run directory (local path or hdfs://, s3a:// URI); overrides editforge.run-dir")
  public String runDir;

  @Option(names = "--force", description = "Recompute even when the outputs are up to date")
  public boolean force;

  @Option(
      names = "--dry-run",
      description =
          "Check config, inputs, models and index and print the plan (stages, inputs, outputs, what is"
              + " up to date); exit 0 or 2 without running Spark work or writing to the run dir")
  public boolean dryRun;

  @Option(
      names = "--break-lock",
      description =
          "Remove a table lock left by a killed run, if older than editforge.run.lock-timeout")
  public boolean breakLock;
}
