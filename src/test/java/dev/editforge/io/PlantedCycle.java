package dev.editforge.io;

/**
 * Not a test: io reaching up into spark, which already imports io — a cycle the rules must catch.
 */
final class PlantedCycle {
  private PlantedCycle() {}

  static Object reachUp() {
    return dev.editforge.spark.StageRunner.class;
  }
}
