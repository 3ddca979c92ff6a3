package dev.editforge.io;

/** Not a test: an io class that uses the report, which only cli may; the rules must catch it. */
final class PlantedReportUse {
  private PlantedReportUse() {}

  static Object reachUp() {
    return dev.editforge.report.HtmlReport.class;
  }
}
