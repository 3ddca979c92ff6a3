package dev.editforge.retrieve;

import com.typesafe.config.Config;
import dev.editforge.io.Fingerprints;
import dev.editforge.io.Manifest;
import dev.editforge.io.RunDir;
import dev.editforge.io.StageTables;
import dev.editforge.io.Tables;
import dev.editforge.spark.PipelineStage;
import dev.editforge.spark.StageContext;
import dev.editforge.spark.StageOutcome;
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
 * {@code editforge retrieve}: queries ({@code editforge.retrieve.queries}: a JSON/JSONL file or
 * the {@code articles} table's questions) → the {@code retrievals} table, and with
 * {@code editforge.retrieve.out} a Self-RAG JSONL file (each input record plus {@code ctxs}).
 * Each executor opens each shard once (memory-mapped, cached per JVM by index path and content)
 * and its encoder once. Malformed query records go to {@code retrievals/_rejects} with their
 * line numbers. A missing or altered shard fails before any query runs, naming the shard.
 *
 * <p>In {@code editforge run} (pipeline mode) it does nothing, with a message, when no queries
 * are configured, when the articles table or the index is absent.
 */
public final class RetrieveJob implements dev.editforge.spark.LegacyStage {
  public static final String STAGE = "retrieve";

  private final boolean pipeline;

  /** @param pipeline true inside {@code editforge run}: missing inputs skip instead of failing */
  public RetrieveJob(boolean pipeline) {
    this.pipeline = pipeline;
  }

  @Override
  public String name() {
    return STAGE;
  }

  static String option(StageContext ctx, String key) {
    Config c = ctx.settings().section("retrieve");
    return c.hasPath(key) ? c.getString(key).strip() : "";
  }

  @Override
  public StageOutcome run(StageContext ctx) throws IOException {
    RunDir run = ctx.runDir();
    String spec = option(ctx, "queries");
    String out = option(ctx, "out");
    if (pipeline) {
      if (spec.isEmpty()) {
        return StageOutcome.nothingToDo(STAGE, "no queries configured (editforge.retrieve.queries is empty)");
      }
      if (run.manifest(Tables.INDEX).isEmpty()) {
        return StageOutcome.nothingToDo(STAGE, "no index to search (no passages were ingested)");
      }
      if (RetrievalSetup.isTable(spec) && run.manifest(spec).isEmpty()) {
        return StageOutcome.nothingToDo(STAGE, "no " + spec + " table to take questions from");
      }
    } else if (spec.isEmpty()) {
      throw new dev.editforge.config.SettingsException(
          "retrieve needs queries: give --queries FILE|articles (or set editforge.retrieve.queries)");
    }
    RetrieveSettings s = ctx.settings().retrieve();
    var index = RetrievalSetup.index(ctx, s, ctx.settings().embed());
    String sourceFp = RetrievalSetup.isTable(spec) ? Fingerprints.ofTable(run, spec)
        : Fingerprints.ofFile(RunDir.qualify(spec).getFileSystem(ctx.spark().sparkContext().hadoopConfiguration()),
            RunDir.qualify(spec));
    String configHash = Fingerprints.configHash(ctx.settings().section("retrieve"));
    String fingerprint = Fingerprints.combine(STAGE, ctx.settings().codeVersion(), configHash, List.of(
        sourceFp, Fingerprints.ofTable(run, Tables.INDEX),
        Fingerprints.configHash(ctx.settings().section("embed"))));
    if (out.isEmpty() || exists(ctx, out)) {
      var upToDate = ctx.skipIfUpToDate(STAGE, Tables.RETRIEVALS, fingerprint);
      if (upToDate.isPresent()) {
        return StageOutcome.ok(STAGE, List.of(upToDate.get()));
      }
    }
    RetrievalSetup.Queries queries = RetrievalSetup.load(ctx, spec);
    ctx.spark().sparkContext().setJobDescription("retrieve " + queries.count() + " queries");
    Manifest manifest = Manifest.start(STAGE, Tables.RETRIEVALS, configHash, ctx.settings().codeVersion(), fingerprint);
    Dataset<Row> outcomes = RetrievalSetup.retrieve(ctx, queries, index, s, ctx.settings().embed())
        .persist(StorageLevel.MEMORY_AND_DISK());
    try {
      Path staging = run.newStaging(Tables.RETRIEVALS);
      outcomes.orderBy("ordinal").select("query_id", "query", "ctxs").write().parquet(staging.toString());
      List<Row> rejects = new ArrayList<>();
      for (QueryReader.Reject r : queries.rejects()) {
        rejects.add(RowFactory.create(r.reason(), queries.sourceFile(), r.line(), r.raw()));
      }
      ctx.spark().createDataFrame(rejects, Tables.REJECTS_SCHEMA).coalesce(1).write()
          .json(new Path(staging, RunDir.REJECTS).toString());
      long answered = outcomes.count();
      long written = 0;
      if (!out.isEmpty()) {
        written = writeJsonl(ctx, outcomes, out);
      }
      long withAnswers = outcomes.filter(outcomes.col("hasanswer").isNotNull()).count();
      long rejected = queries.rejects().size();
      manifest.count("input", answered + rejected).count("accepted", answered).count("rejected", rejected)
          .count("duplicates", 0).count("output", answered).count("with_answers", withAnswers);
      manifest.put("queries", spec);
      manifest.put("mode", s.mode().name().toLowerCase(Locale.ROOT));
      manifest.put("k", s.k());
      if (!out.isEmpty()) {
        manifest.put("out", RunDir.qualify(out).toString());
      }
      manifest.finish(Manifest.COMPLETED);
      run.writeString(new Path(staging, RunDir.MANIFEST), manifest.toJson());
      run.commit(staging, Tables.RETRIEVALS);
      ctx.say(String.format(Locale.ROOT, "retrieve: retrievals completed: %,d queries (%s, k=%d), %,d rejected -> %s%s",
          answered, s.mode().name().toLowerCase(Locale.ROOT), s.k(), rejected, run.table(Tables.RETRIEVALS),
          out.isEmpty() ? "" : String.format(Locale.ROOT, "; %,d Self-RAG records -> %s", written, out)));
      return StageOutcome.ok(STAGE, List.of(manifest));
    } finally {
      outcomes.unpersist(false);
    }
  }

  private static boolean exists(StageContext ctx, String out) throws IOException {
    Path p = RunDir.qualify(out);
    return p.getFileSystem(ctx.spark().sparkContext().hadoopConfiguration()).exists(p);
  }

  /** Writes the JSONL in query input order through the Hadoop FileSystem (temp file, then rename). */
  static long writeJsonl(StageContext ctx, Dataset<Row> outcomes, String out) {
    Path target = RunDir.qualify(out);
    Path tmp = new Path(target.getParent(), "." + target.getName() + ".tmp");
    long n = 0;
    try {
      FileSystem fs = target.getFileSystem(ctx.spark().sparkContext().hadoopConfiguration());
      try (Writer w = new BufferedWriter(new OutputStreamWriter(fs.create(tmp, true), StandardCharsets.UTF_8))) {
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

  static boolean usable(RunDir run, String table) {
    return StageTables.isUsable(run, table);
  }
}
