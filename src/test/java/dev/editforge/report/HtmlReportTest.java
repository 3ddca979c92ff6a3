package dev.editforge.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import javax.xml.parsers.DocumentBuilderFactory;
import org.junit.jupiter.api.Test;
import org.w3c.dom.Document;
import org.w3c.dom.Element;
import org.w3c.dom.NodeList;

/** The renderer alone, on runs built here: well-formed, escaped, every section, honest charts. */
class HtmlReportTest {
  static final String XHTML = "http://www.w3.org/1999/xhtml";
  static final String SVG = "http://www.w3.org/2000/svg";
  static final String HOSTILE = "{\"title\": \"<script>alert('x')</script>\", \"n\": 1 & 2}";

  static Document parse(String html) throws Exception {
    DocumentBuilderFactory f = DocumentBuilderFactory.newInstance();
    f.setNamespaceAware(true);
    f.setExpandEntityReferences(false);
    return f.newDocumentBuilder()
        .parse(new ByteArrayInputStream(html.getBytes(StandardCharsets.UTF_8)));
  }

  static Element section(Document d, String id) {
    NodeList all = d.getElementsByTagNameNS(XHTML, "section");
    Element found = null;
    for (int i = 0; i < all.getLength(); i++) {
      Element e = (Element) all.item(i);
      if (id.equals(e.getAttribute("id"))) {
        assertTrue(found == null, "section " + id + " appears once");
        found = e;
      }
    }
    assertTrue(found != null, "section " + id + " is present");
    return found;
  }

  static RunReport.Table table(String name, long in, long acc, long rej, long dup) {
    return new RunReport.Table(
        name,
        "ingest",
        "completed",
        "2026-01-01T10:00:00Z",
        "2026-01-01T10:00:05Z",
        5.0,
        in,
        acc,
        rej,
        dup,
        acc);
  }

  /** A run with data for every section. */
  static RunReport full() {
    Map<String, Long> leftOut = new LinkedHashMap<>();
    leftOut.put("beyond_k", 3L);
    Map<String, Double> means = new LinkedHashMap<>();
    means.put("no_training", 0.3);
    means.put("passage_only", 0.35);
    means.put("base_edits", 0.4);
    means.put("policy_edits", Double.NaN);
    double nan = Double.NaN;
    return new RunReport(
        "/runs/r1",
        "2026-01-01T11:00:00Z",
        "round-1",
        List.of(new RunReport.Command("run", "2026-01-01T10:00:00Z", "2026-01-01T10:01:00Z", 3)),
        List.of(table("passages", 10, 6, 3, 1), table("articles", 4, 4, 0, 0)),
        List.of(
            new RunReport.Rejects(
                "passages",
                3,
                List.of(
                    new RunReport.Reason(
                        "malformed <json>",
                        2,
                        List.of(new RunReport.Example("in.tsv", 7, HOSTILE))),
                    new RunReport.Reason("empty \u0000text", 1, List.of())),
                0)),
        new RunReport.Ttt(
            List.of(-0.5, 0.0, 0.25, 0.25),
            List.of(
                new RunReport.ArticleTtt("a1", "Veltmoor <b>bold</b>", 2, 0.2, 0.6),
                new RunReport.ArticleTtt("a2", null, 2, 0.5, 0.25)),
            2),
        new RunReport.Selection(
            5,
            2,
            leftOut,
            Map.of("self_edit", 2L),
            List.of(
                new RunReport.PromptFormat("implications", 3, 3, 0.1, 2),
                new RunReport.PromptFormat("rewrite", 2, 0, Double.NaN, 0))),
        new RunReport.Finetune(
            List.of(new RunReport.Point(1, 2.0), new RunReport.Point(2, 1.5)),
            List.of(new RunReport.Point(0, 2.5), new RunReport.Point(2, 1.7)),
            2,
            Map.of("batching", "padding")),
        new RunReport.Evaluation(
            List.of(new RunReport.ArticleEval("a1", "Veltmoor", 6, 0.0, 0.5)), 0.0, 0.5, 1),
        new RunReport.SealEvaluation(
            List.of(new RunReport.SealArticle("a3", "Held out", 5, 0.2, 0.4, 0.6, nan)), means, 1),
        List.of(
            new RunReport.RetrievalEval(
                "queries.jsonl",
                "2026-01-01T10:30:00Z",
                38,
                38,
                0,
                List.of(1, 5),
                List.of(new RunReport.ModeResult("bm25", List.of(0.7, 0.9), List.of(nan, nan))))),
        new RunReport.Rounds(
            List.of("round", "policy_model", "mean_gain", "eval_accuracy"),
            List.of(
                java.util.Arrays.asList(0, "base", 0.1, 0.3),
                java.util.Arrays.asList(1, "round-0", 0.2, null))),
        new RunReport.Continual(2, new double[][] {{0.5, 0.25}, {0.75, nan}, {0.5, 0.5}}));
  }

  static RunReport empty() {
    return new RunReport(
        "/runs/empty",
        "2026-01-01T11:00:00Z",
        "",
        List.of(),
        List.of(),
        List.of(),
        null,
        null,
        null,
        null,
        null,
        List.of(),
        null,
        null);
  }

  @Test
  void everySectionIsThereOnceInWellFormedMarkup() throws Exception {
    Document d = parse(HtmlReport.render(full()));
    for (String[] s : HtmlReport.SECTIONS) {
      Element e = section(d, s[0]);
      assertFalse(
          e.getTextContent().contains("Not in this run"),
          s[0] + " has data here, so it must not say it is absent");
    }
    assertEquals(
        HtmlReport.SECTIONS.size(), d.getElementsByTagNameNS(XHTML, "section").getLength());
  }

  @Test
  void textFromTheRunIsEscapedNotExecuted() throws Exception {
    String html = HtmlReport.render(full());
    assertFalse(html.contains("<script>alert"), "a reject record must not become markup");
    assertFalse(html.contains("<b>bold"), "a title must not become markup");
    Document d = parse(html);
    // exactly one script: the report's own, at the end
    assertEquals(1, d.getElementsByTagNameNS(XHTML, "script").getLength());
    NodeList pres = section(d, "rejects").getElementsByTagNameNS(XHTML, "pre");
    assertEquals(1, pres.getLength());
    assertEquals(HOSTILE, pres.item(0).getTextContent(), "shown exactly as the stage kept it");
    assertTrue(
        section(d, "rejects").getTextContent().contains("empty \uFFFDtext"),
        "a control character XML cannot hold is replaced, not dropped silently");
    assertTrue(section(d, "ttt").getTextContent().contains("Veltmoor <b>bold</b>"));
  }

  @Test
  void nothingIsFetched() throws Exception {
    Document d = parse(HtmlReport.render(full()));
    NodeList all = d.getElementsByTagName("*");
    for (int i = 0; i < all.getLength(); i++) {
      Element e = (Element) all.item(i);
      for (String attr : List.of("src", "href", "xlink:href")) {
        String v = e.getAttribute(attr);
        assertTrue(v.isEmpty() || v.startsWith("#"), e.getTagName() + " " + attr + "=" + v);
      }
      assertFalse("link".equals(e.getLocalName()), "no <link>: the CSS is inline");
    }
  }

  @Test
  void chartsAreSvgAndDrawTheirData() throws Exception {
    Document d = parse(HtmlReport.render(full()));
    // timeline, histogram, ttt articles, formats, loss, evaluation, seal, retrieval, rounds,
    // heatmap
    assertEquals(10, d.getElementsByTagNameNS(SVG, "svg").getLength());

    // the heatmap: (articles + 1) x articles cells, the unmeasured one grey
    NodeList rects = section(d, "continual").getElementsByTagNameNS(SVG, "rect");
    List<Element> cells = new ArrayList<>();
    for (int i = 0; i < rects.getLength(); i++) {
      if ("cell".equals(((Element) rects.item(i)).getAttribute("class"))) {
        cells.add((Element) rects.item(i));
      }
    }
    assertEquals(6, cells.size());
    assertEquals("#eeeeee", cells.get(3).getAttribute("fill"), "step 1, article 2: not measured");
    assertEquals(Svg.blue(0.75), cells.get(2).getAttribute("fill"));

    // the histogram counts every gain once: -0.5, 0.0 and twice 0.25 in 0.1-wide bins
    NodeList bars = section(d, "ttt").getElementsByTagNameNS(SVG, "svg").item(0).getChildNodes();
    Map<String, String> counts = new LinkedHashMap<>();
    for (int i = 0; i < bars.getLength(); i++) {
      if (bars.item(i) instanceof Element e && "rect".equals(e.getLocalName())) {
        String t = e.getTextContent();
        counts.put(t.substring(0, t.indexOf(':')), t.substring(t.indexOf(':') + 2));
      }
    }
    assertEquals(20, counts.size());
    assertEquals("1", counts.get("[-0.50, -0.40)"));
    assertEquals("1", counts.get("[0.00, 0.10)"));
    assertEquals("2", counts.get("[0.20, 0.30)"));
    assertEquals(4, counts.values().stream().mapToInt(Integer::parseInt).sum());
  }

  @Test
  void anUnbalancedTableIsFlagged() throws Exception {
    Document d = parse(HtmlReport.render(full()));
    NodeList rows = section(d, "counts").getElementsByTagNameNS(XHTML, "tr");
    String passages = null;
    String articles = null;
    for (int i = 0; i < rows.getLength(); i++) {
      String text = rows.item(i).getTextContent();
      if (text.startsWith("passages")) {
        passages = text;
      } else if (text.startsWith("articles")) {
        articles = text;
      }
    }
    assertTrue(passages.endsWith("yes"), passages); // 10 = 6 + 3 + 1
    assertTrue(articles.endsWith("yes"), articles);
    RunReport r = full();
    RunReport broken =
        new RunReport(
            r.runDir(),
            r.generatedAt(),
            r.dataRun(),
            r.commands(),
            List.of(table("passages", 10, 6, 1, 1)),
            List.of(),
            null,
            null,
            null,
            null,
            null,
            List.of(),
            null,
            null);
    assertTrue(
        section(parse(HtmlReport.render(broken)), "counts").getTextContent().contains("NO"),
        "10 in, 8 accounted for");
  }

  @Test
  void aRunWithoutDataSaysSoInEverySection() throws Exception {
    Document d = parse(HtmlReport.render(empty()));
    for (String[] s : HtmlReport.SECTIONS) {
      assertTrue(
          section(d, s[0]).getTextContent().contains("Not in this run"),
          s[0] + ": " + section(d, s[0]).getTextContent());
    }
  }

  @Test
  void ticksAreRoundAndCoverTheRange() {
    assertEquals(
        List.of(-1.0, -0.5, 0.0, 0.5, 1.0),
        java.util.Arrays.stream(Svg.ticks(-1, 1)).boxed().toList());
    double[] t = Svg.ticks(0, 93.4);
    assertEquals(0, t[0]);
    assertEquals(100, t[t.length - 1]);
  }
}
