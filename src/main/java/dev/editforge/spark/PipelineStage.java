package dev.editforge.spark;

/** A stage of {@code editforge run}: a name and a job over the run directory's tables. */
public interface PipelineStage {
  String name();

  StageOutcome run(StageContext context) throws Exception;
}
