package dev.editforge.spark;

/** TEMPORARY while jobs move onto {@link StageRunner}: a stage that still runs its own skeleton. */
public interface LegacyStage extends PipelineStage {
  StageOutcome run(StageContext context) throws Exception;

  @Override
  default StagePlan plan(StageContext context) {
    throw new UnsupportedOperationException(name() + " runs its own skeleton");
  }
}
