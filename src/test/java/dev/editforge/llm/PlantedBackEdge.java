package dev.editforge.llm;

/** Not a test: a runtime class that reaches up into cli, which the layering rules must catch. */
final class PlantedBackEdge {
  private PlantedBackEdge() {}

  static Object reachUp() {
    return dev.editforge.cli.Launch.class;
  }
}
