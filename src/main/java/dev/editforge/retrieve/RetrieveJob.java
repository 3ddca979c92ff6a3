package dev.editforge.retrieve;

import com.typesafe.config.Config;
import dev.editforge.config.RetrieveSettings;
import dev.editforge.io.Fingerprints;
import dev.editforge.io.RunDir;
import dev.editforge.io.Tables;
import dev.editforge.spark.PipelineStage;
import dev.editforge.spark.StageContext;
import dev.editforge.spark.StageOutput;
import dev.editforge.spark.StagePlan;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.OutputStreamWriter;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.storage.StorageLevel;

/**
 * {@code editforge retrieve}: queries ({@code editforge.retrieve.queries}: a JSON/JSONL file or the
 * {@code articles} table's questions) → the {@code retrievals} table, and with {@code
 * editforge.retrieve.out} a Self-RAG JSONL file (each input record plus {@code ctxs}). Each
 * executor opens each shard once (memory-mapped, cached per JVM by index path and content) and its
 * encoder once. Malformed query records go to {@code retrievals/_rejects} with their line numbers.
 * A missing or altered shard fails before any query runs, naming the shard.
 *
 * <p>With no queries configured, or the index or the question table absent, it has nothing to do:
 * {@code editforge retrieve} exits 2, {@code editforge run} passes over it with the message.
 */
public final class RetrieveJob implements PipelineStage {
  public static final String STAGE = "retrieve";

  /**
   * No queries configured is nothing to do, an absent index or question table nothing to read: exit
   * 2 on its own, passed over in a pipeline (the runner decides).
   */
  public RetrieveJob() {}

  @Override
  public String name() {
    return STAGE;
  }

  public static String option(StageContext ctx, String key) {
    Config c = ctx.settings().section("retrieve");
    return c.hasPath(key) ? c.getString(key).strip() : "";
  }

  @Override
  public StagePlan plan(StageContext ctx) throws IOException {
    RunDir run = ctx.runDir();
    String spec = option(ctx, "queries");
    String out = option(ctx, "out");
    if (spec.isEmpty()) {
      return StagePlan.nothingToDo(
          "no queries configured: give --queries FILE|articles (or set editforge.retrieve.queries)");
    }
    if (run.manifest(Tables.INDEX).isEmpty()) {
      throw dev.editforge.io.UnusableInputException.table(
          STAGE, run, Tables.INDEX, Tables.producer(Tables.INDEX));
    }
    if (RetrievalSetup.isTable(spec) && run.manifest(spec).isEmpty()) {
      throw dev.editforge.io.UnusableInputException.table(STAGE, run, spec, Tables.producer(spec));
    }
    RetrieveSettings s = ctx.settings().retrieve();
    // Verified while planning, so a missing or altered shard fails even when the table is up to
    // date.
    RetrieveFunctions.IndexLocation index = RetrievalSetup.index(ctx, s, ctx.settings().embed());
    String sourceFp =
        RetrievalSetup.isTable(spec)
            ? Fingerprints.ofTable(run, spec)
            : Fingerprints.ofFile(
                RunDir.qualify(spec).getFileSystem(ctx.hadoopConf().get()), RunDir.qualify(spec));
    List<String> inputs =
        List.of(
            sourceFp,
            Fingerprints.ofTable(run, Tables.INDEX),
            Fingerprints.configHash(ctx.settings().section("embed")));
    return StagePlan.of(
        StageOutput.of(
                Tables.RETRIEVALS,
                Fingerprints.configHash(ctx.settings().section("retrieve")),
                inputs,
                o -> retrieve(o, spec, out, index, s))
            // The Self-RAG file lives outside the run dir: a deleted one is rewritten with the
            // table.
            .reusableWhen(m -> out.isEmpty() || exists(ctx, out)));
  }

  /**
   * Answers the queries into the table, its rejects and, when {@code out} is set, the Self-RAG
   * JSONL.
   */
  private static void retrieve(
      StageOutput.Staged o,
      String spec,
      String out,
      RetrieveFunctions.IndexLocation index,
      RetrieveSettings s) {
    StageContext ctx = o.context();
    RunDir run = ctx.runDir();
    RetrievalSetup.Queries queries = RetrievalSetup.load(ctx, spec);
    ctx.spark().sparkContext().setJobDescription("retrieve " + queries.count() + " queries");
    Dataset<Row> outcomes =
        RetrievalSetup.retrieve(ctx, queries, index, s, ctx.settings().embed())
            .persist(StorageLevel.MEMORY_AND_DISK());
    try {
      outcomes.orderBy("ordinal").select("query_id", "query", "ctxs").write().parquet(o.uri());
      ctx.spark()
          .createDataFrame(rejectRows(queries), Tables.REJECTS_SCHEMA)
          .coalesce(1)
          .write()
          .json(o.rejectsUri());
      long answered = outcomes.count();
      long written = out.isEmpty() ? 0 : writeJsonl(ctx, outcomes, out);
      long withAnswers = outcomes.filter(outcomes.col("hasanswer").isNotNull()).count();
      long rejected = queries.rejects().size();
      String mode = s.mode().name().toLowerCase(Locale.ROOT);
      o.manifest()
          .count("input", answered + rejected)
          .count("accepted", answered)
          .count("rejected", rejected)
          .count("duplicates", 0)
          .count("output", answered)
          .count("with_answers", withAnswers);
      o.manifest().put("queries", spec);
      o.manifest().put("mode", mode);
      o.manifest().put("k", s.k());
      if (!out.isEmpty()) {
        o.manifest().put("out", RunDir.qualify(out).toString());
      }
      o.summary(
          String.format(
              Locale.ROOT,
              "retrieve: retrievals completed: %,d queries (%s, k=%d), %,d rejected -> %s%s",
              answered,
              mode,
              s.k(),
              rejected,
              run.table(Tables.RETRIEVALS),
              out.isEmpty()
                  ? ""
                  : String.format(Locale.ROOT, "; %,d Self-RAG records -> %s", written, out)));
    } finally {
      outcomes.unpersist(false);
    }
  }

  /**
   * The records that were not queries, as {@code _rejects} rows with their source file and line.
   */
  static List<Row> rejectRows(RetrievalSetup.Queries queries) {
    List<Row> rejects = new ArrayList<>();
    for (QueryReader.Reject r : queries.rejects()) {
      rejects.add(RowFactory.create(r.reason(), queries.sourceFile(), r.line(), r.raw()));
    }
    return rejects;
  }

  private static boolean exists(StageContext ctx, String out) {
    Path p = RunDir.qualify(out);
    try {
      return p.getFileSystem(ctx.hadoopConf().get()).exists(p);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot stat " + p, e);
    }
  }

  /**
   * Writes the JSONL in query input order through the Hadoop FileSystem (temp file, then rename).
   */
  static long writeJsonl(StageContext ctx, Dataset<Row> outcomes, String out) {
    Path target = RunDir.qualify(out);
    Path tmp = new Path(target.getParent(), "." + target.getName() + ".tmp");
    long n = 0;
    try {
      FileSystem fs = target.getFileSystem(ctx.hadoopConf().get());
      try (Writer w =
          new BufferedWriter(
              new OutputStreamWriter(fs.create(tmp, true), StandardCharsets.UTF_8))) {
        Iterator<Row> it = outcomes.orderBy("ordinal").select("jsonl").toLocalIterator();
        while (it.hasNext()) {
          w.write(it.next().getString(0));
          w.write('\n');
          n++;
        }
      }
      fs.delete(target, false);
      if (!fs.rename(tmp, target)) {
        throw new IOException("rename " + tmp + " -> " + target + " failed");
      }
      return n;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + out, e);
    }
  }
}
