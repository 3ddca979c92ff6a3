package dev.editforge.generate;

import dev.editforge.config.GenerateSettings;
import dev.editforge.config.MaxErrorFraction;
import dev.editforge.io.Fingerprints;
import dev.editforge.io.Manifest;
import dev.editforge.io.RunDir;
import dev.editforge.io.WorkParts;
import dev.editforge.llm.ChatTemplate;
import dev.editforge.llm.LlmSettings;
import dev.editforge.llm.LlmTokenizer;
import dev.editforge.llm.ModelLoadException;
import dev.editforge.llm.hub.HubClient;
import dev.editforge.llm.hub.HubSettings;
import dev.editforge.spark.GpuProfiles;
import dev.editforge.spark.RemoteModelCache;
import dev.editforge.spark.StageContext;
import dev.editforge.spark.StageOutput;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.UUID;
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
 * Driver-side plumbing shared by {@link SelfEditJob} and {@link ReasoningJob}: resolving the model,
 * the GPU resource profile, and generating pending tasks in checkpointed chunks under {@code
 * <run-dir>/_work/<table>/} ({@link WorkParts}: a chunk counts once its {@code _COMMITTED} marker
 * follows the rename) so a killed run loses at most one chunk.
 */
final class GenerateStage {
  private static final Logger LOG = LoggerFactory.getLogger(GenerateStage.class);

  private GenerateStage() {}

  /** The name prefix of a committed chunk in the work directory. */
  private static final String CHUNK = "chunk-";

  /**
   * The model value that writes (once) and uses a tiny random-weight model: demos and benches only.
   */
  static final String TINY_RANDOM = "tiny-random";

  /** The generator to ship, or why there is none. */
  record Resolved(GeneratorSpec spec, String problem) {}

  /**
   * The output of one generate part ({@code part}: self-edits or reasoning) into {@code table}: its
   * config hash is generate's section without the other part's ({@code otherPart}), with the
   * backend's section (llm or remote); its inputs are {@code inputTable} and the model. An output
   * with error rows is never up to date, so the next run retries those rows.
   */
  static StageOutput output(
      StageContext ctx,
      GeneratorSpec spec,
      String part,
      String otherPart,
      String table,
      String inputTable,
      StageOutput.Writer writer) {
    String configHash =
        Fingerprints.configHash(
            ctx.settings()
                .section("generate")
                .withoutPath("what")
                .withoutPath(otherPart)
                // a threshold decides the verdict, not the rows
                .withoutPath("max-error-fraction")
                .withoutPath("reasoning.max-error-fraction")
                .withFallback(
                    spec.local()
                        ? ctx.settings().section("llm").atKey("llm")
                        : ctx.settings().section("remote").atKey("remote")));
    List<String> inputs =
        List.of(
            Fingerprints.ofTable(ctx.runDir(), inputTable),
            "model=" + spec.modelName() + ":" + spec.modelDir());
    return StageOutput.of(table, configHash, inputs, writer)
        .withFingerprintName(SelfEditJob.STAGE + ":" + part)
        .reusableWhen(m -> m.count("errors") == 0);
  }

  /**
   * Resolves {@code generate.model} (local dir or hub id, on the driver; a Hadoop URI is kept for
   * the executors to copy) into a spec.
   */
  static Resolved resolve(StageContext ctx) {
    GenerateSettings g = ctx.settings().generate();
    if (!g.local()) {
      String name =
          !g.model().isEmpty()
              ? g.model()
              : ctx.settings().remote().model() != null
                  ? ctx.settings().remote().model()
                  : ctx.settings().remote().endpoint().toString();
      return new Resolved(
          GeneratorSpec.of(g, ctx.settings().llm(), ctx.settings().remote(), null, name), null);
    }
    if (g.model().isEmpty()) {
      return new Resolved(
          null,
          "no model (give --model DIR|ORG/NAME, or set editforge.generate.model; "
              + "or --backend openai with editforge.remote.*)");
    }
    Path dir;
    if (g.model().equals(TINY_RANDOM)) {
      dir =
          TinyRandomModel.write(
              Path.of(System.getProperty("java.io.tmpdir"), "editforge", TINY_RANDOM),
              64,
              2,
              1024,
              7);
      checkChatTemplate(g, ctx.settings().llm(), dir);
      return new Resolved(
          GeneratorSpec.of(g, ctx.settings().llm(), ctx.settings().remote(), dir, TINY_RANDOM),
          null);
    }
    if (RemoteModelCache.isHadoopUri(g.model())) {
      // Executors copy the model into their local cache (ModelDirs.localize); the driver only
      // needs the chat template, not a copy of every weight file.
      checkChatTemplate(g, ctx.settings().llm(), templateFiles(g.model(), ctx.hadoopConf().get()));
      return new Resolved(
          GeneratorSpec.ofRef(
              g, ctx.settings().llm(), ctx.settings().remote(), g.model(), g.model()),
          null);
    }
    try (HubClient hub = new HubClient(HubSettings.fromEnvironment(), ctx::say)) {
      dir = hub.resolve(g.model());
    }
    String name =
        java.nio.file.Files.isDirectory(Path.of(g.model()))
            ? dir.getFileName().toString()
            : g.model();
    checkChatTemplate(g, ctx.settings().llm(), dir);
    return new Resolved(
        GeneratorSpec.of(g, ctx.settings().llm(), ctx.settings().remote(), dir, name), null);
  }

  /**
   * A temporary directory with the chat-template files of the model at Hadoop URI {@code uri}
   * (those that exist), for {@link #checkChatTemplate} on the driver.
   */
  static Path templateFiles(String uri, org.apache.hadoop.conf.Configuration conf) {
    try {
      Path tmp = java.nio.file.Files.createTempDirectory("editforge-template-");
      tmp.toFile().deleteOnExit();
      org.apache.hadoop.fs.Path base = new org.apache.hadoop.fs.Path(uri);
      org.apache.hadoop.fs.FileSystem fs = base.getFileSystem(conf);
      if (!fs.isDirectory(base)) {
        throw new ModelLoadException(
            Path.of(base.toUri().getPath()), "the model " + uri + " is not a directory");
      }
      for (String name : List.of("tokenizer_config.json", "chat_template.jinja")) {
        org.apache.hadoop.fs.Path f = new org.apache.hadoop.fs.Path(base, name);
        if (fs.exists(f)) {
          try (java.io.InputStream in = fs.open(f)) {
            java.nio.file.Files.copy(in, tmp.resolve(name));
          }
          tmp.resolve(name).toFile().deleteOnExit();
        }
      }
      return tmp;
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(
          "cannot read the model " + uri + ": " + e.getMessage(), e);
    }
  }

  /**
   * Refuses, on the driver and before any request, a model's own chat template that goes over a
   * sandbox limit ({@link ChatTemplate#checkUsable}) for the one-message conversation generate
   * sends: it would fail every request, each only after its full time limit. A template that merely
   * refuses a conversation is left to each request, whose row carries the reason.
   *
   * @throws ModelLoadException (exit 2) naming the model's tokenizer_config.json
   */
  static void checkChatTemplate(GenerateSettings g, LlmSettings llm, Path dir) {
    if (!g.chat() || !llm.chatTemplate().equals("model")) {
      return;
    }
    ChatTemplate template = LlmTokenizer.readChatTemplate(dir);
    if (template == null) {
      return; // each request says the model has none and which setting picks a built-in
    }
    try {
      template.checkUsable();
    } catch (ChatTemplate.LimitExceeded e) {
      throw new ModelLoadException(
          dir.resolve("tokenizer_config.json"),
          "the chat_template cannot render even a one-message conversation: "
              + e.getMessage()
              + "; set editforge.llm.chat-template to one of "
              + String.join(", ", ChatTemplate.BUILT_IN_NAMES)
              + " or fix the model's template");
    }
  }

  /**
   * The stage-level profile asking for {@code gpus-per-task} GPUs per task, where the cluster
   * manager supports one; null for CPU, and in local mode, where Spark has no stage-level
   * scheduling (the model still binds to a usable GPU there). Notes what was done for the manifest.
   */
  static ResourceProfile gpuProfile(StageContext ctx, Map<String, Object> note) {
    return GpuProfiles.forTasks(
        ctx.spark(), ctx.settings().generate().gpusPerTask(), "generate", note, ctx::say);
  }

  /**
   * The chunks of {@code table} under {@code <run-dir>/_work/<table>/}, ready for this run: with
   * --force every earlier chunk goes (nothing is kept); otherwise a chunk without {@code
   * _COMMITTED} (a killed rename, a half-copied directory on S3A) is discarded, so its tasks are
   * generated again rather than read half-written. The chunks are removed once the table commits.
   */
  static WorkParts openWork(StageOutput.Staged out, String table) {
    WorkParts parts = WorkParts.of(out.context().runDir(), table);
    if (out.context().force()) {
      parts.deleteAll();
    } else {
      int discarded = parts.discardUncommitted();
      if (discarded > 0) {
        LOG.info(
            "generate: {}: discarded {} uncommitted entries in {}", table, discarded, parts.dir());
      }
    }
    out.afterCommit(parts::deleteAll);
    return parts;
  }

  /** The committed chunks (an empty list when none). */
  static List<String> chunks(WorkParts parts) {
    return parts.committed(CHUNK).stream().map(org.apache.hadoop.fs.Path::toString).toList();
  }

  /** Earlier rows a rerun may keep: the committed table's and the committed work chunks'. */
  static Dataset<Row> previous(StageContext ctx, WorkParts parts, String table, StructType schema) {
    RunDir run = ctx.runDir();
    List<String> paths = new ArrayList<>();
    if (run.exists(new org.apache.hadoop.fs.Path(run.table(table), RunDir.MANIFEST))) {
      paths.add(run.tableUri(table));
    }
    paths.addAll(chunks(parts));
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
   * to a temporary directory and committed in {@code parts}; returns the new chunks' paths.
   */
  static <T> List<String> generate(
      StageContext ctx,
      WorkParts parts,
      String table,
      JavaRDD<T> pending,
      long count,
      FlatMapFunction<java.util.Iterator<T>, Row> fn,
      StructType schema,
      Map<String, Object> note) {
    GenerateSettings g = ctx.settings().generate();
    int parallelism =
        g.partitions() > 0 ? g.partitions() : ctx.spark().sparkContext().defaultParallelism();
    JavaRDD<Tuple2<T, Long>> indexed =
        pending
            .zipWithIndex()
            .map(t -> new Tuple2<>(t._1(), t._2()))
            .persist(StorageLevel.MEMORY_AND_DISK());
    List<String> written = new ArrayList<>();
    ResourceProfile profile = gpuProfile(ctx, note);
    try {
      long chunkSize = g.chunkSize();
      long chunks = (count + chunkSize - 1) / chunkSize;
      for (long c = 0; c < chunks; c++) {
        final long chunk = c;
        long inChunk = Math.min(chunkSize, count - c * chunkSize);
        int n = (int) Math.max(1, Math.min(parallelism, inChunk));
        JavaRDD<T> tasks =
            indexed.filter(t -> t._2() / chunkSize == chunk).map(Tuple2::_1).repartition(n);
        JavaRDD<Row> rows =
            (profile == null ? tasks : tasks.withResources(profile)).mapPartitions(fn);
        ctx.spark()
            .sparkContext()
            .setJobDescription("generate " + table + " chunk " + (c + 1) + "/" + chunks);
        org.apache.hadoop.fs.Path temp = parts.newTemp();
        ctx.spark().createDataFrame(rows, schema).write().parquet(temp.toString());
        org.apache.hadoop.fs.Path done =
            parts.commit(
                temp,
                String.format(Locale.ROOT, "%s%s-%05d", CHUNK, UUID.randomUUID(), c),
                String.format(Locale.ROOT, "chunk %d/%d: %d tasks", c + 1, chunks, inChunk));
        written.add(done.toString());
        LOG.info("generate: {} chunk {}/{} ({} tasks) -> {}", table, c + 1, chunks, inChunk, done);
        if (chunks > 1) {
          ctx.say(
              String.format(
                  Locale.ROOT,
                  "generate: %s chunk %d/%d done (%,d tasks)",
                  table,
                  c + 1,
                  chunks,
                  inChunk));
        }
      }
    } finally {
      indexed.unpersist(false);
    }
    return written;
  }

  /**
   * Writes {@code rows} as one more committed chunk named {@code chunk-<kind>-<uuid>}; returns its
   * path.
   */
  static String writeChunk(WorkParts parts, Dataset<Row> rows, String kind, String note) {
    org.apache.hadoop.fs.Path temp = parts.newTemp();
    rows.write().parquet(temp.toString());
    return parts.commit(temp, CHUNK + kind + "-" + UUID.randomUUID(), note).toString();
  }

  static Dataset<Row> read(StageContext ctx, List<String> paths, StructType schema) {
    if (paths.isEmpty()) {
      return ctx.spark().createDataFrame(List.of(), schema);
    }
    return ctx.spark().read().schema(schema).parquet(paths.toArray(new String[0]));
  }

  /**
   * Applies {@code max} to the {@code errors} of {@code rows} that {@code table} holds: records the
   * share in the manifest and, above the threshold, marks the output failed (it is still committed,
   * so a rerun keeps its good rows and retries the rest; generate exits 3 and {@code run} stops).
   * {@code sampleError} is one of the errors, to say what went wrong. Returns the status word for
   * the console line.
   */
  static String checkErrors(
      StageOutput.Staged out,
      MaxErrorFraction max,
      String table,
      long errors,
      long rows,
      String sampleError) {
    out.manifest().put("error_fraction", MaxErrorFraction.fraction(errors, rows));
    out.manifest().put("max_error_fraction", max.value());
    String failure = max.failure("generate: " + table, errors, rows, "rows have an error");
    if (failure == null) {
      return Manifest.COMPLETED;
    }
    out.fail(
        failure
            + (sampleError == null ? "" : "; e.g. " + shorten(sampleError))
            + "; the rows are kept in "
            + out.context().runDir().table(table)
            + " and a rerun retries only the failed ones");
    return Manifest.FAILED;
  }

  /** The first error of {@code rows} (an {@code error} column), or null when none has one. */
  static String firstError(Dataset<Row> rows) {
    List<Row> first =
        rows.filter(org.apache.spark.sql.functions.col("error").isNotNull())
            .select("error")
            .limit(1)
            .collectAsList();
    return first.isEmpty() ? null : first.get(0).getString(0);
  }

  private static String shorten(String s) {
    String one = s.replaceAll("\\s+", " ").strip();
    return one.length() <= 200 ? one : one.substring(0, 200) + "…";
  }

  static Map<String, Object> note() {
    return new LinkedHashMap<>();
  }
}
