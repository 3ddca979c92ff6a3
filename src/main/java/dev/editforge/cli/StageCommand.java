package dev.editforge.cli;

import dev.editforge.spark.ExitCodes;
import dev.editforge.spark.PipelineStage;
import dev.editforge.spark.StageOutcome;
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

  /** Runs stages in order, stopping at the first that does not exit 0. */
  protected int runStages(Launch launch, java.util.List<PipelineStage> stages) throws Exception {
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
      int code = runStage(launch, stage);
      if (code != ExitCodes.OK) {
        console.println(
            spec.name()
                + ": stopped at stage "
                + stage.name()
                + " (exit "
                + code
                + "); fix the cause and rerun to resume from there");
        return code;
      }
    }
    return ExitCodes.OK;
  }

  /** Runs one stage on the launch's runner and prints its message. */
  protected int runStage(Launch launch, PipelineStage stage) throws Exception {
    StageOutcome outcome = launch.runner().run(stage);
    if (outcome.message() != null) {
      console.println(
          outcome.exitCode() == 0 ? stage.name() + ": " + outcome.message() : outcome.message());
    }
    return outcome.exitCode();
  }
}
