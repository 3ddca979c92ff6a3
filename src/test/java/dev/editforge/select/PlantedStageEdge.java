package dev.editforge.select;

/** Not a test: a stage importing another stage, which the layering rules must catch. */
final class PlantedStageEdge {
  private PlantedStageEdge() {}

  static Object reachAcross() {
    return dev.editforge.ingest.IngestJob.class;
  }
}
