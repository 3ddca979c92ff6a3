package dev.editforge.spark;

/** A stage of {@code editforge run}: a name and a job over the run directory's tables. */
public interface PipelineStage {
  String name();

  /**
   * Tables (or stage outputs with a manifest) this stage reads. In {@code editforge run} a stage
   * whose inputs no earlier stage produced is passed over with a message instead of failing; run
   * on its own, the stage reports the missing input (exit 2).
   */
  default java.util.List<String> requires() {
    return java.util.List.of();
  }

  StageOutcome run(StageContext context) throws Exception;
}
