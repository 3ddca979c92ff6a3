package dev.editforge.ingest;

import dev.editforge.config.IngestSettings;
import dev.editforge.io.Fingerprints;
import dev.editforge.io.Manifest;
import dev.editforge.io.RunDir;
import dev.editforge.io.Tables;
import dev.editforge.spark.PipelineStage;
import dev.editforge.spark.StageContext;
import dev.editforge.spark.StageOutput;
import dev.editforge.spark.StagePlan;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.stream.Collectors;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.io.LongWritable;
import org.apache.hadoop.io.Text;
import org.apache.hadoop.mapreduce.lib.input.TextInputFormat;
import org.apache.spark.api.java.JavaPairRDD;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.storage.StorageLevel;

/**
 * {@code editforge ingest}: raw files → typed tables ({@code articles}, {@code passages}, {@code
 * problems}, {@code instructions}), with bad records quarantined in {@code _rejects} and every
 * table committed by rename with its manifest. Line-based inputs split across executors; a SQuAD
 * document is streamed by one task. Any input may be gzip- or bzip2-compressed.
 */
public final class IngestJob implements PipelineStage {
  public static final String STAGE = "ingest";

  @Override
  public String name() {
    return STAGE;
  }

  @Override
  public StagePlan plan(StageContext ctx) {
    IngestSettings s = ctx.settings().ingest();
    if (s.inputs().isEmpty()) {
      return StagePlan.nothingToDo("no inputs (give --input KIND:PATH or editforge.ingest.inputs)");
    }
    List<ResolvedInput> inputs =
        InputValidation.resolve(
            s.inputs().stream().map(InputSpec::parse).toList(), ctx.runDir().fs().getConf());
    Map<String, List<ResolvedInput>> byTable =
        inputs.stream()
            .collect(
                Collectors.groupingBy(
                    i -> i.kind().table(), LinkedHashMap::new, Collectors.toList()));
    String configHash =
        Fingerprints.configHash(ctx.settings().section("ingest").withoutPath("inputs"));
    List<StageOutput> outputs = new ArrayList<>();
    for (Map.Entry<String, List<ResolvedInput>> e : byTable.entrySet()) {
      List<String> fps =
          e.getValue().stream().map(i -> i.spec() + "=" + i.fingerprint()).sorted().toList();
      outputs.add(
          StageOutput.of(
              e.getKey(), configHash, fps, out -> ingestTable(out, e.getKey(), e.getValue())));
    }
    return StagePlan.of(outputs);
  }

  private static void ingestTable(
      StageOutput.Staged out, String table, List<ResolvedInput> inputs) {
    StageContext ctx = out.context();
    IngestSettings s = ctx.settings().ingest();
    RunDir run = ctx.runDir();
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(ctx.spark().sparkContext());
    jsc.setJobDescription("ingest " + table);
    Manifest manifest = out.manifest();
    manifest.put(
        "inputs",
        inputs.stream()
            .map(i -> Map.of("input", i.spec(), "file", i.file(), "fingerprint", i.fingerprint()))
            .toList());

    JavaRDD<Parsed> parsed = null;
    for (ResolvedInput in : inputs) {
      JavaRDD<Parsed> one =
          in.kind().lineBased() ? parseLines(jsc, in, s) : parseDocument(jsc, in, s, ctx);
      parsed = parsed == null ? one : parsed.union(one);
    }
    JavaRDD<Outcome> outcomes =
        resolve(parsed, ctx.settings().spark().shufflePartitions())
            .persist(StorageLevel.MEMORY_AND_DISK());
    try {
      JavaRDD<Row> accepted =
          outcomes.filter(o -> o.kind() == Outcome.Kind.ACCEPTED).map(o -> o.record().row);
      Dataset<Row> df = ctx.spark().createDataFrame(accepted, Tables.schema(table));
      String idColumn = Tables.schema(table).fieldNames()[0];
      df.orderBy(idColumn).write().parquet(out.uri());

      JavaRDD<Row> rejects =
          outcomes
              .filter(o -> o.kind() == Outcome.Kind.REJECTED)
              .map(
                  o ->
                      RowFactory.create(
                          o.record().reason, o.record().file, o.record().line, o.record().raw));
      ctx.spark()
          .createDataFrame(rejects, Tables.REJECTS_SCHEMA)
          .orderBy("source_file", "line")
          .coalesce(1)
          .write()
          .json(out.rejectsUri());
      Map<String, Long> counts = countOutcomes(outcomes);
      long input =
          counts.getOrDefault("ACCEPTED", 0L)
              + counts.getOrDefault("REJECTED", 0L)
              + counts.getOrDefault("DUPLICATE", 0L);
      manifest
          .count("input", input)
          .count("accepted", counts.getOrDefault("ACCEPTED", 0L))
          .count("rejected", counts.getOrDefault("REJECTED", 0L))
          .count("duplicates", counts.getOrDefault("DUPLICATE", 0L))
          .count("output", counts.getOrDefault("ACCEPTED", 0L));
      if (table.equals(Tables.ARTICLES)) {
        Row total = df.selectExpr("size(questions) as n").groupBy().sum("n").first();
        manifest.count("questions", total.isNullAt(0) ? 0L : ((Number) total.get(0)).longValue());
        manifest.count("impossible_questions", counts.getOrDefault("LEFT_OUT", 0L));
      }
      Map<String, Long> byCategory =
          outcomes
              .filter(o -> o.kind() == Outcome.Kind.REJECTED)
              .map(o -> o.record().category)
              .countByValue();
      manifest.put("rejects_by_reason", new java.util.TreeMap<>(byCategory));
      double fraction = input == 0 ? 0.0 : counts.getOrDefault("REJECTED", 0L) / (double) input;
      if (input == 0) {
        manifest.put("warning", "the inputs held no records");
      }
      if (fraction > s.maxRejectedFraction()) {
        String failure =
            String.format(
                Locale.ROOT,
                "ingest: %s: %d of %d records rejected (%.1f%% > editforge.ingest.max-rejected-fraction %.1f%%); "
                    + "reasons %s; see %s",
                table,
                counts.getOrDefault("REJECTED", 0L),
                input,
                100 * fraction,
                100 * s.maxRejectedFraction(),
                byCategory,
                new Path(run.table(table), RunDir.REJECTS));
        out.fail(failure);
      }
      out.summary(summary(table, manifest, run, s.maxRejectedFraction() < fraction));
    } finally {
      outcomes.unpersist(false);
    }
  }

  static String summary(String table, Manifest m, RunDir run, boolean failed) {
    StringBuilder sb = new StringBuilder();
    sb.append(
        String.format(
            Locale.ROOT,
            "ingest: %s %s: %,d rows",
            table,
            failed ? Manifest.FAILED : Manifest.COMPLETED,
            m.count("output")));
    if (m.counts().containsKey("questions")) {
      sb.append(String.format(Locale.ROOT, " (%,d questions", m.count("questions")));
      if (m.count("impossible_questions") > 0) {
        sb.append(
            String.format(
                Locale.ROOT, ", %,d unanswerable left out", m.count("impossible_questions")));
      }
      sb.append(')');
    }
    sb.append(
        String.format(
            Locale.ROOT,
            ", %,d rejected, %,d duplicates of %,d input records -> %s",
            m.count("rejected"),
            m.count("duplicates"),
            m.count("input"),
            run.table(table)));
    return sb.toString();
  }

  private static JavaRDD<Parsed> parseLines(
      JavaSparkContext jsc, ResolvedInput in, IngestSettings s) {
    org.apache.hadoop.conf.Configuration conf =
        new org.apache.hadoop.conf.Configuration(jsc.hadoopConfiguration());
    if (s.minPartitions() > 0) {
      conf.setLong(
          "mapreduce.input.fileinputformat.split.maxsize",
          Math.max(1L << 20, in.length() / s.minPartitions() + 1));
    }
    // TextInputFormat decompresses by file name, as InputFiles does: bz2 splits (each split's
    // lines are counted, so line numbers stay those of the uncompressed file); gz is one split.
    JavaPairRDD<LongWritable, Text> lines =
        jsc.newAPIHadoopFile(
            in.file(), TextInputFormat.class, LongWritable.class, Text.class, conf);
    List<long[]> perSplit =
        lines.mapPartitionsWithIndex(new IngestFunctions.CountLines(), false).collect();
    long[] before = new long[perSplit.size()];
    long[] counts = new long[perSplit.size()];
    for (long[] c : perSplit) {
      counts[(int) c[0]] = c[1];
    }
    for (int i = 1; i < counts.length; i++) {
      before[i] = before[i - 1] + counts[i - 1];
    }
    LineParser parser = LineParser.of(in.kind(), RecordLimits.of(s));
    return lines.mapPartitionsWithIndex(
        new IngestFunctions.ParseLines(parser, in.file(), before), false);
  }

  private static JavaRDD<Parsed> parseDocument(
      JavaSparkContext jsc, ResolvedInput in, IngestSettings s, StageContext ctx) {
    return jsc.parallelize(List.of(in.file()), 1)
        .flatMap(new IngestFunctions.ParseSquadFile(ctx.hadoopConf(), RecordLimits.of(s)));
  }

  private static JavaRDD<Outcome> resolve(JavaRDD<Parsed> parsed, int partitions) {
    JavaRDD<Outcome> rejected =
        parsed.filter(p -> !p.isAccepted()).map(p -> new Outcome(Outcome.Kind.REJECTED, p));
    JavaRDD<Outcome> resolved =
        parsed
            .filter(Parsed::isAccepted)
            .mapToPair(new IngestFunctions.KeyByRecord())
            .groupByKey(partitions)
            .flatMap(new IngestFunctions.ResolveDuplicates());
    return rejected.union(resolved);
  }

  private static Map<String, Long> countOutcomes(JavaRDD<Outcome> outcomes) {
    Map<String, Long> counts =
        new LinkedHashMap<>(outcomes.map(o -> o.kind().name()).countByValue());
    long leftOut = outcomes.map(o -> o.record().leftOut).fold(0L, Long::sum);
    counts.put("LEFT_OUT", leftOut);
    return counts;
  }
}
