package dev.editforge.generate;

import dev.editforge.io.RunDir;
import dev.editforge.llm.hub.HubClient;
import dev.editforge.llm.hub.HubSettings;
import dev.editforge.spark.GpuProfiles;
import dev.editforge.spark.StageContext;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.hadoop.fs.FileStatus;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.resource.ResourceProfile;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.types.StructType;
import org.apache.spark.storage.StorageLevel;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import scala.Tuple2;

/**
 * Driver-side plumbing shared by {@link SelfEditJob} and {@link ReasoningJob}: resolving the
 * model, the GPU resource profile, and generating pending tasks in checkpointed chunks under
 * {@code <run-dir>/_work/<table>/} so a killed run loses at most one chunk.
 */
final class GenerateStage {
  private static final Logger LOG = LoggerFactory.getLogger(GenerateStage.class);

  private GenerateStage() {}

  /** The model value that writes (once) and uses a tiny random-weight model: demos and benches only. */
  static final String TINY_RANDOM = "tiny-random";

  /** The generator to ship, or why there is none. */
  record Resolved(GeneratorSpec spec, String problem) {}

  /** Resolves {@code generate.model} (local dir or hub id, on the driver) into a spec. */
  static Resolved resolve(StageContext ctx) {
    GenerateSettings g = ctx.settings().generate();
    if (!g.local()) {
      String name = !g.model().isEmpty() ? g.model() : ctx.settings().remote().model() != null
          ? ctx.settings().remote().model() : ctx.settings().remote().endpoint().toString();
      return new Resolved(GeneratorSpec.of(g, ctx.settings().llm(), ctx.settings().remote(), null, name), null);
    }
    if (g.model().isEmpty()) {
      return new Resolved(null, "no model (give --model DIR|ORG/NAME, or set editforge.generate.model; "
          + "or --backend openai with editforge.remote.*)");
    }
    Path dir;
    if (g.model().equals(TINY_RANDOM)) {
      dir = TinyRandomModel.write(Path.of(System.getProperty("java.io.tmpdir"), "editforge", TINY_RANDOM), 64, 2, 1024, 7);
      return new Resolved(GeneratorSpec.of(g, ctx.settings().llm(), ctx.settings().remote(), dir, TINY_RANDOM), null);
    }
    try (HubClient hub = new HubClient(HubSettings.fromEnvironment(), ctx::say)) {
      dir = hub.resolve(g.model());
    }
    String name = java.nio.file.Files.isDirectory(Path.of(g.model()))
        ? dir.getFileName().toString() : g.model();
    return new Resolved(GeneratorSpec.of(g, ctx.settings().llm(), ctx.settings().remote(), dir, name), null);
  }

  /**
   * The stage-level profile asking for {@code gpus-per-task} GPUs per task, where the cluster
   * manager supports one; null for CPU, and in local mode, where Spark has no stage-level
   * scheduling (the model still binds to a usable GPU there). Notes what was done for the manifest.
   */
  static ResourceProfile gpuProfile(StageContext ctx, Map<String, Object> note) {
    return GpuProfiles.forTasks(ctx.spark(), ctx.settings().generate().gpusPerTask(), "generate", note, ctx::say);
  }

  /** The work directory of a table's chunks. */
  static org.apache.hadoop.fs.Path workDir(RunDir run, String table) {
    return run.path("_work/" + table);
  }

  /** The rows of every complete chunk in the work directory (an empty list when none). */
  static List<String> chunks(RunDir run, String table) {
    org.apache.hadoop.fs.Path dir = workDir(run, table);
    List<String> out = new ArrayList<>();
    try {
      if (!run.fs().exists(dir)) {
        return out;
      }
      for (FileStatus st : run.fs().listStatus(dir)) {
        if (st.isDirectory() && st.getPath().getName().startsWith("chunk-")) {
          out.add(st.getPath().toString());
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dir, e);
    }
    out.sort(null);
    return out;
  }

  /** Earlier rows a rerun may keep: the committed table's and the work chunks'. */
  static Dataset<Row> previous(StageContext ctx, String table, StructType schema) {
    RunDir run = ctx.runDir();
    List<String> paths = new ArrayList<>();
    if (run.exists(new org.apache.hadoop.fs.Path(run.table(table), RunDir.MANIFEST))) {
      paths.add(run.tableUri(table));
    }
    paths.addAll(chunks(run, table));
    if (paths.isEmpty()) {
      return ctx.spark().createDataFrame(List.of(), schema);
    }
    Dataset<Row> all = null;
    for (String p : paths) {
      Dataset<Row> d = ctx.spark().read().schema(schema).parquet(p);
      all = all == null ? d : all.unionByName(d);
    }
    return all;
  }

  /**
   * Generates {@code pending} ({@code count} tasks) in chunks of {@code chunk-size}, each written
   * to the work directory and committed there by rename; returns the new chunks' paths.
   */
  static <T> List<String> generate(StageContext ctx, String table, JavaRDD<T> pending, long count,
      FlatMapFunction<java.util.Iterator<T>, Row> fn, StructType schema, Map<String, Object> note) {
    GenerateSettings g = ctx.settings().generate();
    RunDir run = ctx.runDir();
    int parallelism = g.partitions() > 0 ? g.partitions() : ctx.spark().sparkContext().defaultParallelism();
    JavaRDD<Tuple2<T, Long>> indexed = pending.zipWithIndex().map(t -> new Tuple2<>(t._1(), t._2()))
        .persist(StorageLevel.MEMORY_AND_DISK());
    List<String> written = new ArrayList<>();
    ResourceProfile profile = gpuProfile(ctx, note);
    try {
      long chunkSize = g.chunkSize();
      long chunks = (count + chunkSize - 1) / chunkSize;
      for (long c = 0; c < chunks; c++) {
        final long chunk = c;
        long inChunk = Math.min(chunkSize, count - c * chunkSize);
        int parts = (int) Math.max(1, Math.min(parallelism, inChunk));
        JavaRDD<T> tasks = indexed.filter(t -> t._2() / chunkSize == chunk).map(Tuple2::_1).repartition(parts);
        JavaRDD<Row> rows = (profile == null ? tasks : tasks.withResources(profile)).mapPartitions(fn);
        ctx.spark().sparkContext().setJobDescription("generate " + table + " chunk " + (c + 1) + "/" + chunks);
        org.apache.hadoop.fs.Path staging = new org.apache.hadoop.fs.Path(workDir(run, table), "_staging-" + UUID.randomUUID());
        ctx.spark().createDataFrame(rows, schema).write().parquet(staging.toString());
        org.apache.hadoop.fs.Path done = new org.apache.hadoop.fs.Path(workDir(run, table),
            String.format("chunk-%s-%05d", UUID.randomUUID(), c));
        if (!run.fs().rename(staging, done)) {
          throw new IOException("rename " + staging + " -> " + done + " failed");
        }
        written.add(done.toString());
        LOG.info("generate: {} chunk {}/{} ({} tasks) -> {}", table, c + 1, chunks, inChunk, done);
        if (chunks > 1) {
          ctx.say(String.format(java.util.Locale.ROOT, "generate: %s chunk %d/%d done (%,d tasks)", table, c + 1, chunks, inChunk));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write a " + table + " chunk", e);
    } finally {
      indexed.unpersist(false);
    }
    return written;
  }

  static Dataset<Row> read(StageContext ctx, List<String> paths, StructType schema) {
    if (paths.isEmpty()) {
      return ctx.spark().createDataFrame(List.of(), schema);
    }
    return ctx.spark().read().schema(schema).parquet(paths.toArray(new String[0]));
  }

  static Map<String, Object> note() {
    return new LinkedHashMap<>();
  }
}
