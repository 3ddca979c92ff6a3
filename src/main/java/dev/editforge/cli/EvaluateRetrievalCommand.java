package dev.editforge.cli;

import dev.editforge.config.RetrieveSettings;
import dev.editforge.config.SettingsException;
import dev.editforge.report.RetrievalEvaluations;
import dev.editforge.report.RunReport;
import dev.editforge.retrieve.AnswerMatch;
import dev.editforge.retrieve.RetrievalMetrics;
import dev.editforge.retrieve.RetrievalSetup;
import dev.editforge.retrieve.RetrieveFunctions;
import dev.editforge.retrieve.RetrieveJob;
import dev.editforge.spark.ExitCodes;
import dev.editforge.spark.StageContext;
import java.io.PrintStream;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code editforge evaluate-retrieval}: for each mode (bm25, dense, hybrid) retrieves the top 100
 * for every query on executors and prints top-1/5/20/100 answer accuracy (a gold answer in a
 * retrieved passage, DPR's normalization: {@link AnswerMatch}) over queries with answers, and
 * gold-passage recall over queries that name gold passages (DPR {@code positive_ctxs}, or {@code
 * gold_ids}). Reads the run's index; writes only its result, for the run report ({@link
 * RetrievalEvaluations}).
 */
@Command(
    name = "evaluate-retrieval",
    description = {
      "Measure bm25, dense and hybrid retrieval on queries with answers, and print a table.",
      "Reports top-1/5/20/100 answer accuracy and gold-passage recall over queries from a JSON/JSONL file or 'articles'; saves the result under <run-dir>/_evaluations/ for the run report."
    },
    footer = {
      "%nExample:",
      "  editforge evaluate-retrieval --run-dir runs/r1 --queries queries.jsonl"
    })
public final class EvaluateRetrievalCommand extends StageCommand {
  static final int[] KS = {1, 5, 20, 100};

  @Option(
      names = "--queries",
      paramLabel = "FILE|TABLE",
      description =
          "Query file (JSON or JSONL with answers) or 'articles'; default editforge.retrieve.queries")
  String queries;

  @Option(
      names = "--modes",
      split = ",",
      paramLabel = "MODE",
      description =
          "Modes to compare (default: bm25,dense,hybrid; only bm25 for a BM25-only index)")
  List<String> modes;

  @Override
  public Map<String, Object> flagOverrides() {
    return queries == null ? Map.of() : Map.of("retrieve.queries", queries);
  }

  @Override
  protected int execute(Launch launch) throws Exception {
    StageContext ctx = launch.context();
    String spec = RetrieveJob.option(ctx, "queries");
    if (spec.isEmpty()) {
      throw new SettingsException("evaluate-retrieval needs queries: give --queries FILE|articles");
    }
    RetrieveSettings base = ctx.settings().retrieve();
    int maxK = KS[KS.length - 1];
    List<RetrieveSettings.Mode> wanted = new ArrayList<>();
    if (modes == null || modes.isEmpty()) {
      wanted.add(RetrieveSettings.Mode.BM25);
      // Dense and hybrid only when the index holds vectors.
      RetrieveSettings bm25 =
          new RetrieveSettings(
              base.k(),
              RetrieveSettings.Mode.BM25,
              base.fusion(),
              base.rrfConstant(),
              base.denseWeight(),
              base.candidates(),
              base.globalBm25Stats(),
              false,
              base.queryBatchSize()); // the first mode below verifies the checksums
      RetrieveFunctions.IndexLocation probe =
          RetrievalSetup.index(ctx, bm25, ctx.settings().embed());
      if (probe.shards().manifest().hasVectors()) {
        wanted.add(RetrieveSettings.Mode.DENSE);
        wanted.add(RetrieveSettings.Mode.HYBRID);
      }
    } else {
      for (String m : modes) {
        try {
          wanted.add(RetrieveSettings.Mode.valueOf(m.strip().toUpperCase(Locale.ROOT)));
        } catch (IllegalArgumentException e) {
          throw new SettingsException("--modes", m, "bm25, dense or hybrid");
        }
      }
    }
    RetrievalSetup.Queries q = RetrievalSetup.load(ctx, spec);
    Map<String, RetrievalMetrics.Report> reports = new LinkedHashMap<>();
    boolean verify = base.verifyIndex();
    for (RetrieveSettings.Mode mode : wanted) {
      RetrieveSettings s =
          new RetrieveSettings(
              maxK,
              mode,
              base.fusion(),
              base.rrfConstant(),
              base.denseWeight(),
              Math.max(base.candidates(), maxK),
              base.globalBm25Stats(),
              verify,
              base.queryBatchSize());
      verify = false; // checksummed once is enough within one command
      ctx.spark()
          .sparkContext()
          .setJobDescription("evaluate-retrieval " + mode.name().toLowerCase(Locale.ROOT));
      RetrieveFunctions.IndexLocation index = RetrievalSetup.index(ctx, s, ctx.settings().embed());
      Dataset<Row> out = RetrievalSetup.retrieve(ctx, q, index, s, ctx.settings().embed());
      RetrievalMetrics metrics = new RetrievalMetrics(KS);
      java.util.Iterator<Row> it = out.select("ids", "hasanswer", "gold").toLocalIterator();
      while (it.hasNext()) {
        Row r = it.next();
        List<String> ids = r.getList(0);
        List<Boolean> has = r.isNullAt(1) ? null : r.getList(1);
        List<String> gold = r.getList(2);
        metrics.add(ids, has, new HashSet<>(gold));
      }
      reports.put(mode.name().toLowerCase(Locale.ROOT), metrics.report());
    }
    print(console(), spec, q, reports);
    // the run report shows recall@k from this record rather than recomputing it
    RetrievalEvaluations.record(ctx.runDir(), record(spec, reports));
    return ExitCodes.OK;
  }

  static RunReport.RetrievalEval record(String spec, Map<String, RetrievalMetrics.Report> reports) {
    RetrievalMetrics.Report any = reports.values().iterator().next();
    List<Integer> ks = java.util.Arrays.stream(KS).boxed().toList();
    List<RunReport.ModeResult> modes = new ArrayList<>();
    reports.forEach(
        (mode, r) ->
            modes.add(
                new RunReport.ModeResult(
                    mode,
                    ks.stream().map(r::accuracy).toList(),
                    ks.stream().map(r::recall).toList())));
    return new RunReport.RetrievalEval(
        spec,
        java.time.Instant.now().toString(),
        any.queries(),
        any.withAnswers(),
        any.withGold(),
        ks,
        modes);
  }

  static void print(
      PrintStream out,
      String spec,
      RetrievalSetup.Queries q,
      Map<String, RetrievalMetrics.Report> reports) {
    RetrievalMetrics.Report any = reports.values().iterator().next();
    out.printf(
        Locale.ROOT,
        "evaluate-retrieval: %s: %,d queries (%,d with answers, %,d with gold passages), %,d rejected%n",
        spec,
        any.queries(),
        any.withAnswers(),
        any.withGold(),
        q.rejects().size());
    StringBuilder head = new StringBuilder(String.format(Locale.ROOT, "%-8s", "mode"));
    for (int k : KS) {
      head.append(String.format(Locale.ROOT, " %8s", "top-" + k));
    }
    for (int k : KS) {
      head.append(String.format(Locale.ROOT, " %10s", "recall@" + k));
    }
    out.println(head);
    for (Map.Entry<String, RetrievalMetrics.Report> e : reports.entrySet()) {
      StringBuilder line = new StringBuilder(String.format(Locale.ROOT, "%-8s", e.getKey()));
      for (int k : KS) {
        line.append(String.format(Locale.ROOT, " %8s", pct(e.getValue().accuracy(k))));
      }
      for (int k : KS) {
        line.append(String.format(Locale.ROOT, " %10s", pct(e.getValue().recall(k))));
      }
      out.println(line);
    }
  }

  static String pct(double v) {
    return Double.isNaN(v) ? "-" : String.format(Locale.ROOT, "%.1f", 100 * v);
  }
}
