package dev.editforge.spark;

import dev.editforge.io.Manifest;
import java.util.List;

/**
 * What a stage did: the manifests of the tables it wrote or skipped, and the exit code it asks for
 * (0 ok, 2 when a stage run on its own had nothing to read or nothing configured, 3 when a quality
 * threshold such as max-rejected-fraction was exceeded).
 */
public record StageOutcome(String stage, List<Manifest> manifests, int exitCode, String message) {
  public static StageOutcome ok(String stage, List<Manifest> manifests) {
    return new StageOutcome(stage, manifests, 0, null);
  }

  public static StageOutcome nothingToDo(String stage, String why) {
    return new StageOutcome(stage, List.of(), 0, why);
  }

  /**
   * A stage run on its own (a command, a scheduled task) with nothing to read or nothing
   * configured: a usage error, so a schedule that passes no inputs fails instead of finishing
   * green.
   */
  public static StageOutcome notConfigured(String stage, String why) {
    return new StageOutcome(stage, List.of(), ExitCodes.USAGE, stage + ": " + why);
  }

  /** True when the stage wrote or kept (up to date) at least one output. */
  public boolean hasOutputs() {
    return !manifests.isEmpty();
  }
}
