package dev.editforge.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import dev.editforge.CliRun;
import dev.editforge.DemoRun;
import java.awt.image.BufferedImage;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The demo run's report in a real browser (headless Chromium): it loads with no console output, its
 * script runs, every section is in the DOM, and it draws something. CI always has Chromium ({@code
 * .ci/run} installs it); elsewhere the test skips and says why.
 */
class ReportBrowserIT {
  @TempDir Path dir;

  HeadlessChromium chromium;

  @BeforeEach
  void needsChromium() {
    assumeTrue(
        HeadlessChromium.available(),
        "skipped: no " + HeadlessChromium.BINARY + " (apt-get install chromium; CI has it)");
    chromium = new HeadlessChromium(dir);
  }

  @Test
  void theDemoEndsWithItsReport() throws Exception {
    Path run = DemoRun.dir();
    List<String> lines = DemoRun.result().out().lines().filter(l -> !l.isBlank()).toList();
    String last = lines.get(lines.size() - 1);
    assertEquals("report: " + run.resolve(ReportWriter.FILE), last, "the demo's last line");
    assertTrue(Files.size(run.resolve(ReportWriter.FILE)) > 10_000);
  }

  @Test
  void theDemoReportLoadsCleanlyAndShowsEverySection() throws Exception {
    Path html = dir.resolve("report.html");
    CliRun r = CliRun.of("report", "--run-dir", DemoRun.dir().toString(), "--out", html.toString());
    assertEquals(0, r.exitCode(), r.toString());

    HeadlessChromium.Page page = chromium.dumpDom(html);
    assertEquals(List.of(), page.consoleMessages(), "the page logs nothing: no errors");
    assertTrue(
        page.dom().contains("data-report-ready=\"1\""),
        "the report's script ran to its end: " + head(page.dom()));
    for (String[] s : HtmlReport.SECTIONS) {
      assertTrue(page.dom().contains("<section id=\"" + s[0] + "\">"), s[0] + " in the DOM");
    }
    // the demo has data for these; the others (SEAL evaluation, retrieval, rounds, continual)
    // say "Not in this run"
    for (String id : List.of("ttt", "selection", "finetune", "evaluation")) {
      String section = page.dom().substring(page.dom().indexOf("<section id=\"" + id + "\">"));
      section = section.substring(0, section.indexOf("</section>"));
      assertFalse(section.contains("Not in this run"), id + ": " + section);
      assertTrue(section.contains("<svg"), id + " draws a chart");
    }

    Path png = dir.resolve("report.png");
    HeadlessChromium.Page shot = chromium.screenshot(html, png, 1200, 2400);
    assertEquals(List.of(), shot.consoleMessages());
    BufferedImage img = ImageIO.read(png.toFile());
    assertEquals(1200, img.getWidth());
    double[] stats = luminance(img);
    assertTrue(stats[1] > 20, "the screenshot is not blank: luminance std dev " + stats[1]);
    assertTrue(stats[2] > 50, "it has more than a few colours: " + stats[2]);
  }

  /** The console check catches what it is for: a page whose script throws and logs an error. */
  @Test
  void aScriptErrorIsCaught() throws Exception {
    Path bad = dir.resolve("bad.html");
    Files.writeString(
        bad,
        "<!DOCTYPE html><html><body><p>x</p><script>"
            + "console.error('logged on purpose'); notDefinedAnywhere();"
            + " document.documentElement.setAttribute('data-report-ready', '1');"
            + "</script></body></html>");
    HeadlessChromium.Page page = chromium.dumpDom(bad);
    List<String> messages = page.consoleMessages();
    assertEquals(2, messages.size(), page.stderr());
    assertTrue(messages.get(0).contains("logged on purpose"), messages.toString());
    assertTrue(
        messages.get(1).contains("Uncaught ReferenceError: notDefinedAnywhere"),
        messages.toString());
    assertFalse(page.dom().contains("data-report-ready=\"1\""), "the script stopped at the error");
  }

  /** Mean and standard deviation of luminance, and the number of distinct colours. */
  static double[] luminance(BufferedImage img) {
    double sum = 0;
    double sq = 0;
    long n = 0;
    Set<Integer> colours = new HashSet<>();
    for (int y = 0; y < img.getHeight(); y += 2) {
      for (int x = 0; x < img.getWidth(); x += 2) {
        int rgb = img.getRGB(x, y);
        colours.add(rgb & 0xffffff);
        double l =
            0.299 * ((rgb >> 16) & 0xff) + 0.587 * ((rgb >> 8) & 0xff) + 0.114 * (rgb & 0xff);
        sum += l;
        sq += l * l;
        n++;
      }
    }
    double mean = sum / n;
    return new double[] {mean, Math.sqrt(Math.max(0, sq / n - mean * mean)), colours.size()};
  }

  private static String head(String s) {
    return s.length() > 400 ? s.substring(0, 400) : s;
  }
}
