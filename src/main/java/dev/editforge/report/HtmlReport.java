package dev.editforge.report;

import static dev.editforge.report.Markup.count;
import static dev.editforge.report.Markup.esc;
import static dev.editforge.report.Markup.num;

import dev.editforge.io.Tables;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Draws a {@link RunReport} as one self-contained HTML page: inline CSS, inline SVG charts and a
 * few lines of inline script (sortable tables), nothing fetched, so it opens offline and can be
 * mailed. The markup is XHTML-compatible (well-formed XML) so tests can parse it. Every section has
 * a stable id ({@link #SECTIONS}) and says "Not in this run" when the run lacks its data. Stateless
 * and thread-safe.
 */
public final class HtmlReport {
  /** Section ids, in page order, with their headings. */
  public static final List<String[]> SECTIONS =
      List.of(
          new String[] {"timeline", "Stage timeline"},
          new String[] {"counts", "Rows per table"},
          new String[] {"rejects", "Rejected records"},
          new String[] {"ttt", "Test-time training gains"},
          new String[] {"selection", "Best-k selection"},
          new String[] {"finetune", "Finetune loss"},
          new String[] {"evaluation", "Base vs tuned accuracy"},
          new String[] {"evaluation-seal", "SEAL evaluation"},
          new String[] {"retrieval", "Retrieval recall"},
          new String[] {"rounds", "ReST^EM rounds"},
          new String[] {"continual", "Continual forgetting matrix"});

  /** Articles drawn in a per-article chart; the table below it lists them all. */
  static final int CHART_ARTICLES = 40;

  private HtmlReport() {}

  public static String render(RunReport r) {
    StringBuilder b = new StringBuilder(64 * 1024);
    b.append("<!DOCTYPE html>\n<html xmlns=\"http://www.w3.org/1999/xhtml\" lang=\"en\">\n<head>\n")
        .append("<meta charset=\"utf-8\"/>\n")
        .append("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"/>\n")
        .append("<title>editforge run report: ")
        .append(esc(r.runDir()))
        .append("</title>\n<style>\n")
        .append(CSS)
        .append("</style>\n</head>\n<body>\n<header>\n<h1>editforge run report</h1>\n<p>Run <code>")
        .append(esc(r.runDir()))
        .append("</code>, report written ")
        .append(esc(r.generatedAt()))
        .append(".</p>\n<nav>");
    for (String[] s : SECTIONS) {
      b.append("<a href=\"#").append(s[0]).append("\">").append(esc(s[1])).append("</a> ");
    }
    b.append("</nav>\n</header>\n<main>\n");
    timeline(b, r);
    counts(b, r);
    rejects(b, r);
    ttt(b, r);
    selection(b, r);
    finetune(b, r);
    evaluation(b, r);
    sealEvaluation(b, r);
    retrieval(b, r);
    rounds(b, r);
    continual(b, r);
    b.append("</main>\n<script>//<![CDATA[\n")
        .append(SCRIPT)
        .append("//]]></script>\n</body>\n</html>\n");
    return b.toString();
  }

  private static void open(StringBuilder b, String id) {
    String heading = SECTIONS.stream().filter(s -> s[0].equals(id)).findFirst().orElseThrow()[1];
    b.append("<section id=\"")
        .append(id)
        .append("\">\n<h2>")
        .append(esc(heading))
        .append("</h2>\n");
  }

  private static void close(StringBuilder b) {
    b.append("</section>\n");
  }

  private static void absent(StringBuilder b, String why) {
    b.append("<p class=\"absent\">Not in this run: ").append(esc(why)).append("</p>\n");
  }

  private static String missing(String table) {
    return "no " + table + " table (" + Tables.producer(table) + " writes it)";
  }

  private static void para(StringBuilder b, String text) {
    b.append("<p>").append(esc(text)).append("</p>\n");
  }

  private static void fromRound(StringBuilder b, RunReport r) {
    if (r.dataRun() != null && !r.dataRun().isEmpty()) {
      b.append("<p class=\"note\">From <code>").append(esc(r.dataRun())).append("</code>.</p>\n");
    }
  }

  // ---- sections ----

  private static void timeline(StringBuilder b, RunReport r) {
    open(b, "timeline");
    List<Svg.Span> spans = new ArrayList<>();
    Instant first = null;
    for (RunReport.Table t : r.tables()) {
      Instant s = instant(t.startedAt());
      if (s != null && (first == null || s.isBefore(first))) {
        first = s;
      }
    }
    if (first == null) {
      absent(b, "no table manifest with a start time");
    } else {
      for (RunReport.Table t : r.tables()) {
        Instant s = instant(t.startedAt());
        if (s == null) {
          continue;
        }
        double start = seconds(first, s);
        double secs = !Double.isNaN(t.seconds()) ? t.seconds() : durationOf(t);
        double end = start + (Double.isNaN(secs) ? 0 : secs);
        spans.add(
            new Svg.Span(
                t.table(),
                start,
                end,
                t.status(),
                t.table() + " (" + t.stage() + ", " + t.status() + "): " + num(secs, 1) + " s"));
      }
      b.append("<div class=\"chart\">").append(Svg.timeline(spans)).append("</div>\n");
      b.append(legendLine());
      List<List<Object>> rows = new ArrayList<>();
      for (RunReport.Table t : r.tables()) {
        double secs = !Double.isNaN(t.seconds()) ? t.seconds() : durationOf(t);
        rows.add(
            List.of(
                t.table(),
                t.stage(),
                new Cell(t.status(), t.status(), "status-" + t.status()),
                shortTime(t.startedAt()),
                shortTime(t.endedAt()),
                secs));
      }
      table(b, List.of("table", "stage", "status", "started", "ended", "seconds"), rows);
    }
    if (!r.commands().isEmpty()) {
      b.append("<h3>Commands (<code>_runs/</code>)</h3>\n");
      List<List<Object>> rows = new ArrayList<>();
      for (RunReport.Command c : r.commands()) {
        Instant s = instant(c.startedAt());
        Instant e = instant(c.endedAt());
        rows.add(
            List.of(
                c.command(),
                shortTime(c.startedAt()),
                shortTime(c.endedAt()),
                s == null || e == null ? Double.NaN : seconds(s, e),
                new Cell(
                    Integer.toString(c.exitCode()),
                    Integer.toString(c.exitCode()),
                    c.exitCode() == 0 ? null : "bad")));
      }
      table(b, List.of("command", "started", "ended", "seconds", "exit code"), rows);
    }
    close(b);
  }

  private static String legendLine() {
    StringBuilder b = new StringBuilder("<p class=\"legend\">");
    for (String s : List.of("completed", "skipped", "failed", "running")) {
      b.append("<span class=\"swatch\" style=\"background:")
          .append(Svg.statusColour(s))
          .append("\"></span>")
          .append(s)
          .append(' ');
    }
    return b.append("</p>\n").toString();
  }

  private static void counts(StringBuilder b, RunReport r) {
    open(b, "counts");
    if (r.tables().isEmpty()) {
      absent(b, "no table has a _manifest.json");
    } else {
      para(
          b,
          "Every record a stage reads is accepted, rejected (kept in <table>/_rejects with its"
              + " reason) or counted as a duplicate: input = accepted + rejected + duplicates.");
      List<List<Object>> rows = new ArrayList<>();
      for (RunReport.Table t : r.tables()) {
        boolean balanced = t.input() == t.accepted() + t.rejected() + t.duplicates();
        rows.add(
            List.of(
                t.table(),
                t.stage(),
                t.input(),
                t.accepted(),
                new Cell(
                    count(t.rejected()),
                    Long.toString(t.rejected()),
                    t.rejected() > 0 ? "warn" : null),
                t.duplicates(),
                t.output(),
                new Cell(balanced ? "yes" : "NO", balanced ? "1" : "0", balanced ? null : "bad")));
      }
      table(
          b,
          List.of(
              "table",
              "stage",
              "input",
              "accepted",
              "rejected",
              "duplicates",
              "output",
              "balanced"),
          rows);
    }
    close(b);
  }

  private static void rejects(StringBuilder b, RunReport r) {
    open(b, "rejects");
    List<RunReport.Table> unexplained = new ArrayList<>();
    for (RunReport.Table t : r.tables()) {
      if (t.rejected() > 0 && r.rejects().stream().noneMatch(x -> x.table().equals(t.table()))) {
        unexplained.add(t);
      }
    }
    if (r.rejects().isEmpty() && unexplained.isEmpty()) {
      absent(b, "no table rejected a record");
    }
    for (RunReport.Rejects x : r.rejects()) {
      b.append("<h3><code>")
          .append(esc(x.table()))
          .append("</code>: ")
          .append(count(x.total()))
          .append(" rejected</h3>\n");
      b.append("<table class=\"sortable\"><thead><tr><th>reason</th><th>count</th>")
          .append("<th>examples (source:line, record)</th></tr></thead>\n<tbody>\n");
      for (RunReport.Reason reason : x.reasons()) {
        b.append("<tr><td>")
            .append(esc(reason.reason()))
            .append("</td><td class=\"num\" data-v=\"")
            .append(reason.count())
            .append("\">")
            .append(count(reason.count()))
            .append("</td><td>");
        for (RunReport.Example e : reason.examples()) {
          b.append("<div class=\"example\"><span class=\"src\">")
              .append(esc(e.sourceFile()))
              .append(':')
              .append(e.line())
              .append("</span><pre>")
              .append(esc(e.record()))
              .append("</pre></div>");
        }
        b.append("</td></tr>\n");
      }
      b.append("</tbody></table>\n");
      if (x.moreReasons() > 0) {
        para(b, "… and " + x.moreReasons() + " more reasons (see " + x.table() + "/_rejects).");
      }
    }
    if (!unexplained.isEmpty()) {
      b.append("<p>Left out without a <code>_rejects</code> record (the reasons are the")
          .append(" stage's manifest counts, e.g. best-k selection below): ");
      List<String> parts = new ArrayList<>();
      for (RunReport.Table t : unexplained) {
        parts.add(t.table() + " " + count(t.rejected()));
      }
      b.append(esc(String.join(", ", parts))).append(".</p>\n");
    }
    close(b);
  }

  private static void ttt(StringBuilder b, RunReport r) {
    open(b, "ttt");
    RunReport.Ttt t = r.ttt();
    if (t == null) {
      absent(b, missing(Tables.TTT_SCORES));
      close(b);
      return;
    }
    fromRound(b, r);
    List<Double> gains = t.editGains();
    double mean = gains.stream().mapToDouble(Double::doubleValue).average().orElse(Double.NaN);
    long positive = gains.stream().filter(g -> g > 0).count();
    para(
        b,
        String.format(
            Locale.ROOT,
            "%d scored edits; mean adapter gain %s; %d with a positive gain (%s%%).",
            gains.size(),
            num(mean, 4),
            positive,
            gains.isEmpty() ? "-" : num(100.0 * positive / gains.size(), 1)));
    b.append("<h3>Adapter gain per edit (mean over repeats)</h3>\n<div class=\"chart\">")
        .append(Svg.histogram(gains, -1, 1, 20, "adapter accuracy - baseline accuracy"))
        .append("</div>\n");
    articlesChart(
        b,
        "Baseline vs adapter accuracy per article (mean over its edits)",
        t.articles().stream().map(a -> label(a.title(), a.articleId())).toList(),
        List.of(
            new Svg.Series(
                "baseline",
                t.articles().stream().mapToDouble(RunReport.ArticleTtt::baseline).toArray()),
            new Svg.Series(
                "adapter",
                t.articles().stream().mapToDouble(RunReport.ArticleTtt::adapter).toArray())),
        "accuracy");
    List<List<Object>> rows = new ArrayList<>();
    for (RunReport.ArticleTtt a : t.articles()) {
      rows.add(
          List.of(
              str(a.title()),
              a.articleId(),
              (long) a.edits(),
              a.baseline(),
              a.adapter(),
              a.adapter() - a.baseline()));
    }
    table(b, List.of("article", "article_id", "edits", "baseline", "adapter", "gain"), rows);
    more(b, t.articles().size(), t.totalArticles());
    close(b);
  }

  private static void selection(StringBuilder b, RunReport r) {
    open(b, "selection");
    RunReport.Selection s = r.selection();
    if (s == null) {
      absent(b, missing(Tables.SFT));
      close(b);
      return;
    }
    fromRound(b, r);
    para(
        b,
        "Best-k selection kept "
            + count(s.kept())
            + " of "
            + count(s.considered())
            + " self-edits.");
    if (!s.leftOut().isEmpty()) {
      b.append("<h3>Why edits were left out</h3>\n");
      List<List<Object>> rows = new ArrayList<>();
      s.leftOut().forEach((k, v) -> rows.add(List.of(k, v)));
      table(b, List.of("reason", "edits"), rows);
    }
    if (!s.formats().isEmpty()) {
      b.append("<h3>Prompt formats</h3>\n");
      double most =
          s.formats().stream().mapToLong(RunReport.PromptFormat::generated).max().orElse(1);
      b.append("<div class=\"chart\">")
          .append(
              Svg.hbars(
                  s.formats().stream().map(RunReport.PromptFormat::promptKey).toList(),
                  List.of(
                      new Svg.Series(
                          "generated",
                          s.formats().stream()
                              .mapToDouble(RunReport.PromptFormat::generated)
                              .toArray()),
                      new Svg.Series(
                          "kept",
                          s.formats().stream()
                              .mapToDouble(RunReport.PromptFormat::kept)
                              .toArray())),
                  most,
                  "self-edits"))
          .append("</div>\n");
      List<List<Object>> rows = new ArrayList<>();
      for (RunReport.PromptFormat f : s.formats()) {
        rows.add(
            List.of(
                f.promptKey(),
                f.generated(),
                f.scored(),
                f.meanGain(),
                f.kept(),
                f.generated() == 0 ? Double.NaN : (double) f.kept() / f.generated()));
      }
      table(
          b,
          List.of("prompt format", "generated", "scored", "mean gain", "kept", "kept share"),
          rows);
    }
    if (!s.rowsBySource().isEmpty()) {
      b.append("<h3>SFT rows by source</h3>\n");
      List<List<Object>> rows = new ArrayList<>();
      s.rowsBySource().forEach((k, v) -> rows.add(List.of(k, v)));
      table(b, List.of("source", "rows"), rows);
    }
    close(b);
  }

  private static void finetune(StringBuilder b, RunReport r) {
    open(b, "finetune");
    RunReport.Finetune f = r.finetune();
    if (f == null) {
      absent(b, "no finetune/trainer_log.json (editforge finetune writes it)");
      close(b);
      return;
    }
    fromRound(b, r);
    List<Svg.Line> lines = new ArrayList<>();
    lines.add(new Svg.Line("train loss", f.trainLoss()));
    if (!f.evalLoss().isEmpty()) {
      lines.add(new Svg.Line("eval loss", f.evalLoss()));
    }
    b.append("<div class=\"chart\">").append(Svg.lines(lines, "step", "loss")).append("</div>\n");
    List<List<Object>> rows = new ArrayList<>();
    f.facts().forEach((k, v) -> rows.add(List.of(k, str(v))));
    if (f.bestStep() > 0) {
      rows.add(List.of("best eval step", (long) f.bestStep()));
    }
    table(b, List.of("", ""), rows);
    close(b);
  }

  private static void evaluation(StringBuilder b, RunReport r) {
    open(b, "evaluation");
    RunReport.Evaluation e = r.evaluation();
    if (e == null) {
      absent(b, missing(Tables.EVALUATION));
      close(b);
      return;
    }
    fromRound(b, r);
    para(
        b,
        "No-context QA accuracy over all questions: base "
            + num(e.baseAccuracy(), 4)
            + ", tuned "
            + num(e.tunedAccuracy(), 4)
            + " ("
            + (Double.isNaN(e.baseAccuracy())
                ? "-"
                : String.format(Locale.ROOT, "%+.4f", e.tunedAccuracy() - e.baseAccuracy()))
            + ").");
    articlesChart(
        b,
        "Per article",
        e.articles().stream().map(a -> label(a.title(), a.articleId())).toList(),
        List.of(
            new Svg.Series(
                "base", e.articles().stream().mapToDouble(RunReport.ArticleEval::base).toArray()),
            new Svg.Series(
                "tuned",
                e.articles().stream().mapToDouble(RunReport.ArticleEval::tuned).toArray())),
        "accuracy");
    List<List<Object>> rows = new ArrayList<>();
    for (RunReport.ArticleEval a : e.articles()) {
      rows.add(
          List.of(
              str(a.title()),
              a.articleId(),
              (long) a.questions(),
              a.base(),
              a.tuned(),
              a.tuned() - a.base()));
    }
    table(b, List.of("article", "article_id", "questions", "base", "tuned", "gain"), rows);
    more(b, e.articles().size(), e.totalArticles());
    close(b);
  }

  private static final String[][] SEAL_COLUMNS = {
    {"no_training", "Base model"},
    {"passage_only", "Train on Passage"},
    {"base_edits", "Train on Passage + Synthetic"},
    {"policy_edits", "Policy's edits"}
  };

  private static void sealEvaluation(StringBuilder b, RunReport r) {
    open(b, "evaluation-seal");
    RunReport.SealEvaluation s = r.sealEvaluation();
    if (s == null) {
      absent(b, missing(Tables.EVALUATION_SEAL));
      close(b);
      return;
    }
    fromRound(b, r);
    List<List<Object>> means = new ArrayList<>();
    for (String[] c : SEAL_COLUMNS) {
      Double v = s.means().get(c[0]);
      means.add(List.of(c[1], c[0], v == null ? Double.NaN : v));
    }
    table(b, List.of("SEAL's row", "column", "mean accuracy"), means);
    articlesChart(
        b,
        "Per held-out article",
        s.articles().stream().map(a -> label(a.title(), a.articleId())).toList(),
        List.of(
            new Svg.Series(
                "no_training",
                s.articles().stream().mapToDouble(RunReport.SealArticle::noTraining).toArray()),
            new Svg.Series(
                "passage_only",
                s.articles().stream().mapToDouble(RunReport.SealArticle::passageOnly).toArray()),
            new Svg.Series(
                "base_edits",
                s.articles().stream().mapToDouble(RunReport.SealArticle::baseEdits).toArray()),
            new Svg.Series(
                "policy_edits",
                s.articles().stream().mapToDouble(RunReport.SealArticle::policyEdits).toArray())),
        "accuracy");
    List<List<Object>> rows = new ArrayList<>();
    for (RunReport.SealArticle a : s.articles()) {
      rows.add(
          List.of(
              str(a.title()),
              a.articleId(),
              (long) a.questions(),
              a.noTraining(),
              a.passageOnly(),
              a.baseEdits(),
              a.policyEdits()));
    }
    table(
        b,
        List.of(
            "article",
            "article_id",
            "questions",
            "no_training",
            "passage_only",
            "base_edits",
            "policy_edits"),
        rows);
    more(b, s.articles().size(), s.totalArticles());
    close(b);
  }

  private static void retrieval(StringBuilder b, RunReport r) {
    open(b, "retrieval");
    if (r.retrieval().isEmpty()) {
      absent(
          b,
          "retrieval was not evaluated (editforge evaluate-retrieval --run-dir D --queries FILE"
              + " records its result)");
      close(b);
      return;
    }
    for (RunReport.RetrievalEval e : r.retrieval()) {
      b.append("<h3>Queries <code>").append(esc(e.queries())).append("</code></h3>\n");
      para(
          b,
          String.format(
              Locale.ROOT,
              "%,d queries (%,d with answers, %,d with gold passages), evaluated %s.",
              e.queryCount(),
              e.withAnswers(),
              e.withGold(),
              e.evaluatedAt()));
      List<String> head = new ArrayList<>(List.of("mode"));
      e.ks().forEach(k -> head.add("top-" + k + " accuracy"));
      e.ks().forEach(k -> head.add("recall@" + k));
      List<List<Object>> rows = new ArrayList<>();
      List<Svg.Line> lines = new ArrayList<>();
      boolean recall = e.withGold() > 0;
      for (RunReport.ModeResult m : e.modes()) {
        List<Object> row = new ArrayList<>(List.of(m.mode()));
        row.addAll(m.accuracy());
        row.addAll(m.recall());
        rows.add(row);
        List<RunReport.Point> pts = new ArrayList<>();
        List<Double> ys = recall ? m.recall() : m.accuracy();
        for (int i = 0; i < e.ks().size(); i++) {
          pts.add(new RunReport.Point(e.ks().get(i), ys.get(i)));
        }
        lines.add(new Svg.Line(m.mode(), pts));
      }
      b.append("<div class=\"chart\">")
          .append(Svg.lines(lines, "k", recall ? "gold recall@k" : "top-k answer accuracy"))
          .append("</div>\n");
      table(b, head, rows);
    }
    close(b);
  }

  private static void rounds(StringBuilder b, RunReport r) {
    open(b, "rounds");
    RunReport.Rounds x = r.rounds();
    if (x == null) {
      absent(b, missing(Tables.ROUNDS));
      close(b);
      return;
    }
    int roundCol = x.columns().indexOf("round");
    List<Svg.Line> lines = new ArrayList<>();
    for (int c = 0; c < x.columns().size(); c++) {
      String name = x.columns().get(c);
      if (roundCol < 0 || !(name.endsWith("accuracy") || name.startsWith("seal_"))) {
        continue;
      }
      List<RunReport.Point> pts = new ArrayList<>();
      for (List<Object> row : x.rows()) {
        if (row.get(roundCol) instanceof Number rn && row.get(c) instanceof Number v) {
          pts.add(new RunReport.Point(rn.doubleValue(), v.doubleValue()));
        }
      }
      if (!pts.isEmpty()) {
        lines.add(new Svg.Line(name, pts));
      }
    }
    if (!lines.isEmpty()) {
      b.append("<div class=\"chart\">")
          .append(Svg.lines(lines, "round", "accuracy"))
          .append("</div>\n");
    }
    table(b, x.columns(), x.rows());
    close(b);
  }

  private static void continual(StringBuilder b, RunReport r) {
    open(b, "continual");
    RunReport.Continual c = r.continual();
    if (c == null || c.accuracy().length == 0) {
      absent(b, missing(Tables.CONTINUAL));
      close(b);
      return;
    }
    para(
        b,
        "Accuracy on each article's questions (columns) after each self-edit step (rows), the mean"
            + " over "
            + c.sequences()
            + " sequences; grey cells are articles not edited yet.");
    int cols = c.accuracy()[0].length;
    List<String> rowLabels = new ArrayList<>();
    for (int i = 0; i < c.accuracy().length; i++) {
      rowLabels.add(i == 0 ? "no edits" : "after " + i);
    }
    List<String> colLabels = new ArrayList<>();
    for (int j = 0; j < cols; j++) {
      colLabels.add("article " + (j + 1));
    }
    b.append("<div class=\"chart\">")
        .append(Svg.heatmap(c.accuracy(), rowLabels, colLabels))
        .append("</div>\n");
    close(b);
  }

  // ---- pieces ----

  private static void articlesChart(
      StringBuilder b, String heading, List<String> labels, List<Svg.Series> series, String what) {
    b.append("<h3>").append(esc(heading)).append("</h3>\n");
    if (labels.isEmpty()) {
      para(b, "No articles.");
      return;
    }
    int n = Math.min(CHART_ARTICLES, labels.size());
    List<Svg.Series> cut = new ArrayList<>();
    for (Svg.Series s : series) {
      cut.add(new Svg.Series(s.name(), java.util.Arrays.copyOf(s.values(), n)));
    }
    b.append("<div class=\"chart\">")
        .append(Svg.hbars(labels.subList(0, n), cut, 1.0, what))
        .append("</div>\n");
    if (n < labels.size()) {
      para(
          b,
          "The chart shows the first "
              + n
              + " of "
              + labels.size()
              + " articles; the table lists them all.");
    }
  }

  private static void more(StringBuilder b, int shown, int total) {
    if (total > shown) {
      para(b, "Showing " + shown + " of " + total + " articles.");
    }
  }

  private static String label(String title, String id) {
    return title == null || title.isBlank() ? id : title;
  }

  /** A table cell with its own display text, sort key and CSS class. */
  record Cell(String text, String sortKey, String cssClass) {}

  private static void table(StringBuilder b, List<String> head, List<List<Object>> rows) {
    b.append("<table class=\"sortable\"><thead><tr>");
    for (String h : head) {
      b.append("<th>").append(esc(h)).append("</th>");
    }
    b.append("</tr></thead>\n<tbody>\n");
    for (List<Object> row : rows) {
      b.append("<tr>");
      for (Object v : row) {
        cell(b, v);
      }
      b.append("</tr>\n");
    }
    b.append("</tbody></table>\n");
  }

  private static void cell(StringBuilder b, Object v) {
    if (v instanceof Cell c) {
      b.append("<td");
      if (c.cssClass() != null) {
        b.append(" class=\"").append(esc(c.cssClass())).append('"');
      }
      b.append(" data-v=\"")
          .append(esc(c.sortKey()))
          .append("\">")
          .append(esc(c.text()))
          .append("</td>");
    } else if (v instanceof Double d) {
      b.append("<td class=\"num\" data-v=\"")
          .append(Double.isNaN(d) ? "" : Double.toString(d))
          .append("\">")
          .append(num(d, 4))
          .append("</td>");
    } else if (v instanceof Float f) {
      cell(b, (double) f);
    } else if (v instanceof Number n) {
      b.append("<td class=\"num\" data-v=\"")
          .append(n.longValue())
          .append("\">")
          .append(count(n.longValue()))
          .append("</td>");
    } else {
      b.append("<td>").append(esc(v == null ? "" : v.toString())).append("</td>");
    }
  }

  private static String str(String s) {
    return s == null ? "" : s;
  }

  /** An ISO instant to the second, as a person reads it ("2026-01-02 10:11:12Z"). */
  static String shortTime(String iso) {
    Instant t = instant(iso);
    if (t == null) {
      return str(iso);
    }
    return t.truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString().replace('T', ' ');
  }

  static Instant instant(String iso) {
    if (iso == null) {
      return null;
    }
    try {
      return Instant.parse(iso);
    } catch (DateTimeParseException e) {
      return null;
    }
  }

  private static double seconds(Instant from, Instant to) {
    return (to.toEpochMilli() - from.toEpochMilli()) / 1000.0;
  }

  private static double durationOf(RunReport.Table t) {
    Instant s = instant(t.startedAt());
    Instant e = instant(t.endedAt());
    return s == null || e == null ? Double.NaN : seconds(s, e);
  }

  private static final String CSS =
      """
      :root { color-scheme: light; }
      body { font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif;
             color: #222; background: #fafafa; margin: 0; }
      header { background: #2f4b6e; color: #fff; padding: 16px 24px; }
      header h1 { margin: 0 0 4px; font-size: 22px; }
      header code { color: #fff; }
      nav a { color: #dfe8f3; margin-right: 10px; font-size: 13px; }
      main { max-width: 1040px; margin: 0 auto; padding: 8px 24px 40px; }
      section { background: #fff; border: 1px solid #ddd; border-radius: 6px; margin: 18px 0;
                padding: 4px 18px 14px; }
      h2 { font-size: 18px; border-bottom: 1px solid #eee; padding-bottom: 4px; }
      h3 { font-size: 15px; margin: 16px 0 6px; }
      table { border-collapse: collapse; margin: 8px 0; font-size: 13px; }
      th, td { border: 1px solid #e3e3e3; padding: 3px 8px; text-align: left; vertical-align: top; }
      th { background: #f0f3f7; cursor: pointer; user-select: none; }
      th[aria-sort="ascending"]::after { content: " \\25B2"; }
      th[aria-sort="descending"]::after { content: " \\25BC"; }
      td.num { text-align: right; font-variant-numeric: tabular-nums; }
      td.bad, .bad { color: #b3261e; font-weight: 600; }
      td.warn { color: #9a5b00; }
      td.status-failed { color: #b3261e; font-weight: 600; }
      .absent { color: #777; font-style: italic; }
      .note { color: #555; font-size: 13px; }
      .chart svg { max-width: 100%; height: auto; font-size: 11px; }
      .chart text { fill: #333; }
      .chart .axis { stroke: #888; }
      .chart .grid { stroke: #eee; }
      .legend .swatch { display: inline-block; width: 10px; height: 10px; margin: 0 4px 0 10px; }
      .example { margin: 2px 0 6px; }
      .example .src { color: #666; font-size: 12px; }
      pre { margin: 2px 0; white-space: pre-wrap; word-break: break-all; background: #f6f6f6;
            padding: 4px 6px; max-height: 10em; overflow: auto; font-size: 12px; }
      """;

  /**
   * Click a column header to sort its table. The last line marks the page as loaded, which the
   * browser test checks (a script error before it leaves the mark out).
   */
  private static final String SCRIPT =
      """
      (function () {
        function key(row, i) {
          var c = row.cells[i];
          var v = c ? c.getAttribute("data-v") : null;
          if (v !== null && v !== "" && !isNaN(Number(v))) { return Number(v); }
          return c ? (v !== null ? v : c.textContent) : "";
        }
        document.querySelectorAll("table.sortable").forEach(function (table) {
          var body = table.tBodies[0];
          table.querySelectorAll("thead th").forEach(function (th) {
            th.addEventListener("click", function () {
              var i = th.cellIndex;
              var asc = th.getAttribute("aria-sort") !== "ascending";
              var rows = Array.prototype.slice.call(body.rows);
              rows.sort(function (a, b) {
                var x = key(a, i), y = key(b, i);
                var d = (typeof x === "number" && typeof y === "number")
                  ? x - y : String(x).localeCompare(String(y));
                return asc ? d : -d;
              });
              table.querySelectorAll("thead th").forEach(function (h) { h.removeAttribute("aria-sort"); });
              th.setAttribute("aria-sort", asc ? "ascending" : "descending");
              rows.forEach(function (row) { body.appendChild(row); });
            });
          });
        });
        document.documentElement.setAttribute("data-report-ready", "1");
      })();
      """;
}
