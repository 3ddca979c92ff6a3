package dev.editforge.report;

import static dev.editforge.report.Markup.esc;
import static dev.editforge.report.Markup.px;

import java.util.ArrayList;
import java.util.List;

/**
 * The report's charts as inline SVG, written here so the page needs no script library and works
 * offline. Each method returns one {@code <svg>} element (well-formed XML); every mark carries a
 * {@code <title>} so hovering shows its exact value. Sizes are in user units; CSS scales the chart
 * to the page.
 */
final class Svg {
  static final String[] PALETTE = {
    "#4e79a7", "#f28e2b", "#59a14f", "#e15759", "#76b7b2", "#edc948", "#b07aa1"
  };
  private static final int WIDTH = 760;

  private Svg() {}

  /** One labelled bar on the timeline: seconds from the run's first start. */
  record Span(String label, double start, double end, String status, String tooltip) {}

  /** A named series of values, one per category, for {@link #hbars}. */
  record Series(String name, double[] values) {}

  /** A named series of (x, y) points for {@link #lines}. */
  record Line(String name, List<RunReport.Point> points) {}

  /** A Gantt chart: one row per span, coloured by status. */
  static String timeline(List<Span> spans) {
    int left = 190;
    int top = 10;
    int row = 18;
    double max = 0;
    for (Span s : spans) {
      max = Math.max(max, s.end());
    }
    double[] ticks = ticks(0, max <= 0 ? 1 : max);
    double hi = ticks[ticks.length - 1];
    int plotW = WIDTH - left - 20;
    int height = top + spans.size() * row + 42;
    StringBuilder b = open(height, "stage timeline");
    for (int i = 0; i < spans.size(); i++) {
      Span s = spans.get(i);
      double y = top + i * row;
      double x0 = left + plotW * s.start() / hi;
      double w = Math.max(2, plotW * (s.end() - s.start()) / hi);
      b.append(text(left - 6, y + row * 0.7, "end", Markup.cut(s.label(), 28)));
      b.append("<rect x=\"")
          .append(px(x0))
          .append("\" y=\"")
          .append(px(y + 2))
          .append("\" width=\"")
          .append(px(w))
          .append("\" height=\"")
          .append(row - 4)
          .append("\" fill=\"")
          .append(statusColour(s.status()))
          .append("\"><title>")
          .append(esc(s.tooltip()))
          .append("</title></rect>\n");
    }
    double axisY = top + spans.size() * row + 4;
    axisX(b, ticks, left, plotW, axisY, "seconds since the first stage started");
    return b.append("</svg>\n").toString();
  }

  static String statusColour(String status) {
    if (status == null) {
      return "#999999";
    }
    return switch (status) {
      case "completed" -> PALETTE[2];
      case "skipped" -> "#bab0ac";
      case "failed" -> PALETTE[3];
      default -> PALETTE[1];
    };
  }

  /** Counts of {@code values} in {@code bins} equal bins over [lo, hi] (values outside clamp). */
  static String histogram(List<Double> values, double lo, double hi, int bins, String xLabel) {
    long[] counts = new long[bins];
    for (double v : values) {
      if (Double.isNaN(v)) {
        continue;
      }
      int i = (int) Math.floor((v - lo) / (hi - lo) * bins);
      counts[Math.max(0, Math.min(bins - 1, i))]++;
    }
    long most = 1;
    for (long c : counts) {
      most = Math.max(most, c);
    }
    int left = 50;
    int top = 10;
    int plotW = WIDTH - left - 20;
    int plotH = 180;
    double[] yTicks = ticks(0, most);
    double yHi = yTicks[yTicks.length - 1];
    StringBuilder b = open(top + plotH + 40, "histogram of " + xLabel);
    axisY(b, yTicks, left, top, plotW, plotH, "count");
    double bw = (double) plotW / bins;
    for (int i = 0; i < bins; i++) {
      double from = lo + (hi - lo) * i / bins;
      double to = lo + (hi - lo) * (i + 1) / bins;
      double h = plotH * counts[i] / yHi;
      b.append("<rect x=\"")
          .append(px(left + i * bw + 1))
          .append("\" y=\"")
          .append(px(top + plotH - h))
          .append("\" width=\"")
          .append(px(Math.max(1, bw - 2)))
          .append("\" height=\"")
          .append(px(h))
          .append("\" fill=\"")
          .append(PALETTE[0])
          .append("\"><title>")
          .append(esc("[" + Markup.num(from, 2) + ", " + Markup.num(to, 2) + "): " + counts[i]))
          .append("</title></rect>\n");
    }
    double[] xTicks = ticks(lo, hi);
    axisX(b, xTicks, left, plotW, top + plotH, xLabel, lo, hi);
    return b.append("</svg>\n").toString();
  }

  /**
   * Grouped horizontal bars: one group per category (label on the left), one bar per series, on a
   * shared scale from 0 to {@code max}. NaN values draw no bar.
   */
  static String hbars(List<String> labels, List<Series> series, double max, String valueLabel) {
    int left = 200;
    int top = 28;
    int bar = 9;
    int gap = 8;
    int group = series.size() * bar + gap;
    int plotW = WIDTH - left - 60;
    int plotH = labels.size() * group;
    StringBuilder b = open(top + plotH + 40, valueLabel + " per article");
    legend(b, series.stream().map(Series::name).toList(), left, 12);
    double hi = max > 0 ? max : 1;
    for (int i = 0; i < labels.size(); i++) {
      double y = top + i * group;
      b.append(text(left - 6, y + group / 2.0, "end", Markup.cut(labels.get(i), 30)));
      for (int s = 0; s < series.size(); s++) {
        double v = series.get(s).values()[i];
        if (Double.isNaN(v)) {
          continue;
        }
        double w = Math.max(1, plotW * Math.max(0, v) / hi);
        b.append("<rect x=\"")
            .append(left)
            .append("\" y=\"")
            .append(px(y + s * bar))
            .append("\" width=\"")
            .append(px(w))
            .append("\" height=\"")
            .append(bar - 1)
            .append("\" fill=\"")
            .append(PALETTE[s % PALETTE.length])
            .append("\"><title>")
            .append(
                esc(labels.get(i) + " \u2013 " + series.get(s).name() + ": " + Markup.num(v, 4)))
            .append("</title></rect>\n");
      }
    }
    axisX(b, ticks(0, hi), left, plotW, top + plotH + 2, valueLabel, 0, hi);
    return b.append("</svg>\n").toString();
  }

  /** Line chart of one or more series on shared, automatically scaled axes. */
  static String lines(List<Line> lines, String xLabel, String yLabel) {
    double xLo = Double.POSITIVE_INFINITY;
    double xHi = Double.NEGATIVE_INFINITY;
    double yLo = Double.POSITIVE_INFINITY;
    double yHi = Double.NEGATIVE_INFINITY;
    for (Line l : lines) {
      for (RunReport.Point p : l.points()) {
        if (Double.isNaN(p.y())) {
          continue;
        }
        xLo = Math.min(xLo, p.x());
        xHi = Math.max(xHi, p.x());
        yLo = Math.min(yLo, p.y());
        yHi = Math.max(yHi, p.y());
      }
    }
    if (xLo > xHi) {
      xLo = 0;
      xHi = 1;
      yLo = 0;
      yHi = 1;
    }
    double[] xt = ticks(xLo, xHi > xLo ? xHi : xLo + 1);
    double[] yt = ticks(yLo, yHi > yLo ? yHi : yLo + 1);
    double x0 = xt[0];
    double x1 = xt[xt.length - 1];
    double y0 = yt[0];
    double y1 = yt[yt.length - 1];
    int left = 60;
    int top = 28;
    int plotW = WIDTH - left - 20;
    int plotH = 220;
    StringBuilder b = open(top + plotH + 40, yLabel + " by " + xLabel);
    legend(b, lines.stream().map(Line::name).toList(), left, 12);
    axisY(b, yt, left, top, plotW, plotH, yLabel);
    axisX(b, xt, left, plotW, top + plotH, xLabel, x0, x1);
    for (int s = 0; s < lines.size(); s++) {
      Line l = lines.get(s);
      String colour = PALETTE[s % PALETTE.length];
      StringBuilder path = new StringBuilder();
      StringBuilder dots = new StringBuilder();
      for (RunReport.Point p : l.points()) {
        if (Double.isNaN(p.y())) {
          continue;
        }
        double x = left + plotW * (p.x() - x0) / (x1 - x0);
        double y = top + plotH - plotH * (p.y() - y0) / (y1 - y0);
        path.append(path.length() == 0 ? "M" : " L").append(px(x)).append(' ').append(px(y));
        dots.append("<circle cx=\"")
            .append(px(x))
            .append("\" cy=\"")
            .append(px(y))
            .append("\" r=\"2.5\" fill=\"")
            .append(colour)
            .append("\"><title>")
            .append(esc(l.name() + " at " + Markup.num(p.x(), 0) + ": " + Markup.num(p.y(), 4)))
            .append("</title></circle>\n");
      }
      if (path.length() > 0) {
        b.append("<path d=\"")
            .append(path)
            .append("\" fill=\"none\" stroke=\"")
            .append(colour)
            .append("\" stroke-width=\"1.5\"/>\n");
      }
      b.append(dots);
    }
    return b.append("</svg>\n").toString();
  }

  /**
   * A matrix of values in [0, 1] as coloured cells (white to blue) with the value written in; NaN
   * cells are left grey and empty.
   */
  static String heatmap(double[][] v, List<String> rowLabels, List<String> colLabels) {
    int rows = v.length;
    int cols = rows == 0 ? 0 : v[0].length;
    int left = 90;
    int top = 24;
    int cell = Math.max(26, Math.min(60, (WIDTH - left - 20) / Math.max(1, cols)));
    StringBuilder b = open(top + rows * cell + 10, "heatmap");
    for (int c = 0; c < cols; c++) {
      b.append(text(left + c * cell + cell / 2.0, top - 8, "middle", colLabels.get(c)));
    }
    for (int r = 0; r < rows; r++) {
      double y = top + r * cell;
      b.append(text(left - 6, y + cell / 2.0 + 4, "end", rowLabels.get(r)));
      for (int c = 0; c < cols; c++) {
        double x = left + c * cell;
        double val = v[r][c];
        boolean has = !Double.isNaN(val);
        b.append("<rect class=\"cell\" x=\"")
            .append(px(x))
            .append("\" y=\"")
            .append(px(y))
            .append("\" width=\"")
            .append(cell - 1)
            .append("\" height=\"")
            .append(cell - 1)
            .append("\" fill=\"")
            .append(has ? blue(val) : "#eeeeee")
            .append("\"><title>")
            .append(
                esc(
                    rowLabels.get(r)
                        + ", "
                        + colLabels.get(c)
                        + ": "
                        + (has ? Markup.num(val, 3) : "not measured")))
            .append("</title></rect>\n");
        if (has) {
          b.append("<text x=\"")
              .append(px(x + cell / 2.0))
              .append("\" y=\"")
              .append(px(y + cell / 2.0 + 4))
              .append("\" text-anchor=\"middle\" fill=\"")
              .append(val > 0.6 ? "#ffffff" : "#222222")
              .append("\">")
              .append(Markup.num(val, 2))
              .append("</text>\n");
        }
      }
    }
    return b.append("</svg>\n").toString();
  }

  /** White at 0 to the palette's blue at 1. */
  static String blue(double v) {
    double t = Math.max(0, Math.min(1, v));
    int r = (int) Math.round(255 + (0x4e - 255) * t);
    int g = (int) Math.round(255 + (0x79 - 255) * t);
    int bl = (int) Math.round(255 + (0xa7 - 255) * t);
    return String.format(java.util.Locale.ROOT, "#%02x%02x%02x", r, g, bl);
  }

  /**
   * Round tick values covering [lo, hi]: steps of 1, 2 or 5 times a power of ten, about 5 of them.
   */
  static double[] ticks(double lo, double hi) {
    if (!(hi > lo)) {
      hi = lo + 1;
    }
    double raw = (hi - lo) / 5;
    double mag = Math.pow(10, Math.floor(Math.log10(raw)));
    double norm = raw / mag;
    double step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
    double start = Math.floor(lo / step + 1e-9) * step;
    List<Double> out = new ArrayList<>();
    for (double t = start; t < hi + step - 1e-9 * step; t += step) {
      out.add(Math.abs(t) < step * 1e-9 ? 0 : t);
      if (t >= hi - 1e-9 * step) {
        break;
      }
    }
    return out.stream().mapToDouble(Double::doubleValue).toArray();
  }

  private static StringBuilder open(int height, String label) {
    return new StringBuilder()
        .append("<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 ")
        .append(WIDTH)
        .append(' ')
        .append(height)
        .append("\" width=\"")
        .append(WIDTH)
        .append("\" height=\"")
        .append(height)
        .append("\" role=\"img\" aria-label=\"")
        .append(esc(label))
        .append("\">\n");
  }

  private static String text(double x, double y, String anchor, String s) {
    return "<text x=\""
        + px(x)
        + "\" y=\""
        + px(y)
        + "\" text-anchor=\""
        + anchor
        + "\">"
        + esc(s)
        + "</text>\n";
  }

  private static void legend(StringBuilder b, List<String> names, double x, double y) {
    double at = x;
    for (int i = 0; i < names.size(); i++) {
      b.append("<rect x=\"")
          .append(px(at))
          .append("\" y=\"")
          .append(px(y - 8))
          .append("\" width=\"10\" height=\"10\" fill=\"")
          .append(PALETTE[i % PALETTE.length])
          .append("\"/>\n");
      b.append(text(at + 14, y + 1, "start", names.get(i)));
      at += 24 + 7 * names.get(i).length();
    }
  }

  private static void axisX(
      StringBuilder b, double[] ticks, int left, int plotW, double y, String label) {
    axisX(b, ticks, left, plotW, y, label, ticks[0], ticks[ticks.length - 1]);
  }

  private static void axisX(
      StringBuilder b,
      double[] ticks,
      int left,
      int plotW,
      double y,
      String label,
      double lo,
      double hi) {
    b.append("<line class=\"axis\" x1=\"")
        .append(left)
        .append("\" y1=\"")
        .append(px(y))
        .append("\" x2=\"")
        .append(left + plotW)
        .append("\" y2=\"")
        .append(px(y))
        .append("\"/>\n");
    for (double t : ticks) {
      if (t < lo - 1e-9 || t > hi + 1e-9) {
        continue;
      }
      double x = left + plotW * (t - lo) / (hi - lo);
      b.append(text(x, y + 14, "middle", tickLabel(t)));
    }
    b.append(text(left + plotW / 2.0, y + 30, "middle", label));
  }

  private static void axisY(
      StringBuilder b, double[] ticks, int left, int top, int plotW, int plotH, String label) {
    double lo = ticks[0];
    double hi = ticks[ticks.length - 1];
    for (double t : ticks) {
      double y = top + plotH - plotH * (t - lo) / (hi - lo);
      b.append("<line class=\"grid\" x1=\"")
          .append(left)
          .append("\" y1=\"")
          .append(px(y))
          .append("\" x2=\"")
          .append(left + plotW)
          .append("\" y2=\"")
          .append(px(y))
          .append("\"/>\n");
      b.append(text(left - 6, y + 4, "end", tickLabel(t)));
    }
    b.append("<text x=\"12\" y=\"")
        .append(px(top + plotH / 2.0))
        .append("\" text-anchor=\"middle\" transform=\"rotate(-90 12 ")
        .append(px(top + plotH / 2.0))
        .append(")\">")
        .append(esc(label))
        .append("</text>\n");
  }

  private static String tickLabel(double t) {
    if (t == Math.rint(t) && Math.abs(t) < 1e12) {
      return Long.toString((long) t);
    }
    String s = Markup.num(t, 3);
    return s.contains(".") ? s.replaceAll("0+$", "").replaceAll("\\.$", "") : s;
  }
}
