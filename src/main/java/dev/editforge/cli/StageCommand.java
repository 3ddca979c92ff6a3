package dev.editforge.cli;

import dev.editforge.spark.ExitCodes;
import dev.editforge.spark.PipelineStage;
import dev.editforge.spark.StageOutcome;
import dev.editforge.spark.StageRunner;
import java.io.PrintStream;
import java.util.Map;
import java.util.concurrent.Callable;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

/**
 * Base of every command that reads the config and may start Spark: the common options, the launch
 * (config, Spark, run manifest) and the exit code. A subclass adds its own flags as setting
 * overrides and says what to run.
 */
public abstract class StageCommand implements Callable<Integer> {
  @Mixin public CommonOptions common = new CommonOptions();

  @Spec CommandSpec spec;

  PrintStream console = System.out;

  /** Settings this command's own flags set, keyed below {@code editforge.}; they win over --set. */
  public Map<String, Object> flagOverrides() {
    return Map.of();
  }

  protected abstract int execute(Launch launch) throws Exception;

  /**
   * True for a command whose {@link #execute} only checks its flags and runs stages through {@link
   * #runStage}/{@link #runStages}: under {@code --dry-run} it runs as is and those print the plan
   * instead. Any other command (demo, iterate, export, report, bench, ...) only has its config
   * resolved and validated by {@code --dry-run}, and says so.
   */
  protected boolean plansStages() {
    return false;
  }

  /**
   * Setting overrides from flags given as key, value pairs; a null value (the flag was not given)
   * leaves the setting to the config.
   */
  protected static Map<String, Object> given(Object... keysAndValues) {
    Map<String, Object> out = new java.util.LinkedHashMap<>();
    for (int i = 0; i + 1 < keysAndValues.length; i += 2) {
      if (keysAndValues[i + 1] != null) {
        out.put((String) keysAndValues[i], keysAndValues[i + 1]);
      }
    }
    return out;
  }

  @Override
  public final Integer call() throws Exception {
    Launch launch = Launch.of(spec.name(), common, flagOverrides(), console);
    int code = ExitCodes.FAILURE;
    try {
      if (launch.dryRun() && !plansStages()) {
        console.println(
            spec.name()
                + ": dry run: config is valid; "
                + spec.name()
                + " has no stage plan to show, nothing was run");
        code = ExitCodes.OK;
        return code;
      }
      code = execute(launch);
      return code;
    } finally {
      launch.finish(code);
    }
  }

  public void useConsole(PrintStream out) {
    this.console = out;
  }

  protected PrintStream console() {
    return console;
  }

  /**
   * Runs stages in order as one pipeline, stopping at the first that does not exit 0. A stage with
   * nothing to do, or whose input an earlier stage did not produce, is passed over (exit 0): an
   * optional step may simply not be configured. But when no stage had any output to write or keep,
   * nothing was configured at all (no inputs, an empty run dir): exit 2, so a scheduled run with no
   * inputs fails instead of finishing green.
   */
  protected int runStages(Launch launch, java.util.List<PipelineStage> stages) throws Exception {
    if (launch.dryRun()) {
      return dryRunStages(launch, stages);
    }
    boolean anyOutput = false;
    for (PipelineStage stage : stages) {
      var absent = launch.runner().absentInputs(stage);
      if (!absent.isEmpty()) {
        console.println(
            stage.name()
                + ": passed over: no "
                + String.join(", ", absent)
                + " in this run (an earlier stage did not produce it; see its message above)");
        continue;
      }
      StageOutcome outcome = launch.runner().runInPipeline(stage);
      print(stage, outcome);
      anyOutput |= outcome.hasOutputs();
      if (outcome.exitCode() != ExitCodes.OK) {
        console.println(
            spec.name()
                + ": stopped at stage "
                + stage.name()
                + " (exit "
                + outcome.exitCode()
                + "); fix the cause and rerun to resume from there");
        return outcome.exitCode();
      }
    }
    if (!anyOutput) {
      console.println(nothingConfigured(launch));
      return ExitCodes.USAGE;
    }
    return ExitCodes.OK;
  }

  private String nothingConfigured(Launch launch) {
    return spec.name()
        + ": nothing configured: no stage had anything to read or write in "
        + launch.runner().context().runDir().root()
        + " (give --input KIND:PATH or editforge.ingest.inputs)";
  }

  private int dryRunStages(Launch launch, java.util.List<PipelineStage> stages) throws Exception {
    java.util.Set<String> coming = new java.util.HashSet<>();
    boolean anyOutput = false;
    boolean writes = false;
    for (PipelineStage stage : stages) {
      StageRunner.Planned p = launch.runner().dryRun(stage, coming, true, writes);
      if (p.message() != null) {
        console.println(p.message());
      }
      if (p.exitCode() != ExitCodes.OK) {
        return p.exitCode();
      }
      coming.addAll(p.tables());
      anyOutput |= !p.tables().isEmpty();
      writes |= p.writes();
    }
    if (!anyOutput) {
      console.println(nothingConfigured(launch));
      return ExitCodes.USAGE;
    }
    console.println(spec.name() + ": dry run ok: plan above, nothing was run or written");
    return ExitCodes.OK;
  }

  /**
   * Runs one stage on its own on the launch's runner and prints its message: a stage with nothing
   * to read or nothing configured exits 2 ({@link StageRunner#run}). Under {@code --dry-run} it
   * prints the stage's plan instead.
   */
  protected int runStage(Launch launch, PipelineStage stage) throws Exception {
    if (launch.dryRun()) {
      StageRunner.Planned p = launch.runner().dryRun(stage, java.util.Set.of(), false, false);
      if (p.message() != null) {
        console.println(p.message());
      }
      if (p.exitCode() == ExitCodes.OK) {
        console.println(spec.name() + ": dry run ok: plan above, nothing was run or written");
      }
      return p.exitCode();
    }
    StageOutcome outcome = launch.runner().run(stage);
    print(stage, outcome);
    return outcome.exitCode();
  }

  private void print(PipelineStage stage, StageOutcome outcome) {
    if (outcome.message() != null) {
      console.println(
          outcome.exitCode() == 0 ? stage.name() + ": " + outcome.message() : outcome.message());
    }
  }
}
