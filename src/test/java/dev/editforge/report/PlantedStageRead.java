package dev.editforge.report;

/** Not a test: a report class that reaches into a stage, which the layering rules must catch. */
final class PlantedStageRead {
  private PlantedStageRead() {}

  static Object reachAcross() {
    return dev.editforge.ingest.IngestJob.class;
  }
}
