package dev.editforge.finetune;

import dev.editforge.config.FinetuneSettings;
import dev.editforge.io.Fingerprints;
import dev.editforge.io.Manifest;
import dev.editforge.io.RunDir;
import dev.editforge.io.SftRow;
import dev.editforge.io.SftSource;
import dev.editforge.io.SftTable;
import dev.editforge.io.StageTables;
import dev.editforge.io.Tables;
import dev.editforge.io.UnusableInputException;
import dev.editforge.io.WorkParts;
import dev.editforge.llm.ChatMessage;
import dev.editforge.llm.DjlOffline;
import dev.editforge.llm.ModelConfig;
import dev.editforge.spark.HadoopConf;
import dev.editforge.spark.ModelDirs;
import dev.editforge.spark.PipelineStage;
import dev.editforge.spark.SingleTask;
import dev.editforge.spark.StageContext;
import dev.editforge.spark.StageOutput;
import dev.editforge.spark.StagePlan;
import dev.editforge.text.Json;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Row;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code editforge finetune}: LoRA SFT of {@code editforge.finetune.model} on an {@code sft} table
 * (this run's, or {@code editforge.finetune.sft}), as ONE Spark task ({@link SingleTask}: a
 * stage-level GPU resource profile when {@code finetune.gpus > 0}, else an ordinary CPU task). The
 * task runs {@link FinetuneRunner}; outputs go to {@code <run-dir>/finetune/}: {@code adapter/}
 * (PEFT), {@code merged/} (Hugging Face layout, sharded above {@code finetune.max-shard-size}),
 * {@code trainer_log.json} (the loss history) and the manifest. While it trains, step and losses
 * reach the driver's console through {@link TrainingProgress}. Checkpoints live in {@code
 * <run-dir>/_work/finetune-<fingerprint>/checkpoints/} ({@link CheckpointStore} over {@link
 * WorkParts}), so a killed run (or a lost executor) rerun with the same inputs and settings resumes
 * from the latest one; they are removed once the output is committed.
 */
public final class FinetuneJob implements PipelineStage {
  public static final String STAGE = "finetune";

  /** The loss history beside the manifest ({@link FinetuneRunner}'s state at the end). */
  public static final String TRAINER_LOG = "trainer_log.json";

  private static final Logger LOG = LoggerFactory.getLogger(FinetuneJob.class);

  private final FinetuneRunner.StepListener listener;

  /**
   * Trains on {@code editforge.finetune.sft} or, when that is empty, the run's {@code sft} table;
   * an absent one is exit 2 on its own and passed over in a pipeline (the runner decides).
   */
  public FinetuneJob() {
    this(null);
  }

  /**
   * {@code listener} runs after every optimizer step inside the training task (tests kill a run
   * with it; it travels with the task, so it must be serializable and capture nothing that is not).
   */
  public FinetuneJob(FinetuneRunner.StepListener listener) {
    this.listener = listener;
  }

  @Override
  public String name() {
    return STAGE;
  }

  @Override
  public StagePlan plan(StageContext ctx) throws IOException {
    FinetuneSettings s = ctx.settings().finetune();
    RunDir run = ctx.runDir();
    String sftLocation;
    String sftFingerprint;
    if (!s.sft().isBlank()) {
      Path p = RunDir.qualify(s.sft());
      FileSystem fs = p.getFileSystem(ctx.hadoopConf().get());
      if (!fs.exists(p)) {
        throw new UnusableInputException(
            "sft table " + p + " (editforge.finetune.sft) does not exist");
      }
      sftLocation = p.toString();
      sftFingerprint = "sft:" + treeFingerprint(fs, p);
    } else {
      if (!StageTables.isUsable(run, Tables.SFT)) {
        throw UnusableInputException.table(STAGE, run, Tables.SFT, Tables.producer(Tables.SFT));
      }
      sftLocation = run.tableUri(Tables.SFT);
      sftFingerprint = Fingerprints.ofTable(run, Tables.SFT);
    }
    // The sft table first: absent, the stage has nothing to read (passed over in a pipeline).
    if (s.model().isBlank()) {
      throw new UnusableInputException(
          "finetune needs a base model: --model DIR|HUB_ID (editforge.finetune.model)");
    }
    String model = ModelDirs.normalize(s.model());
    if (s.fullParameters()) {
      refuseFullTrainingThatCannotFit(ctx, s, model);
    } else {
      refuseTargetsTheModelLacks(s, model);
    }
    // gpus/threads/dtype do not change what is learned (beyond float rounding): not in the hash
    String configHash =
        Fingerprints.configHash(
            ctx.settings()
                .section(STAGE)
                .withoutPath("gpus")
                .withoutPath("threads")
                .withoutPath("full-memory")
                .withoutPath("model")
                .withoutPath("sft"));
    return StagePlan.of(
        StageOutput.of(
                Tables.FINETUNE,
                configHash,
                List.of(sftFingerprint, "model:" + model),
                out -> train(out, s, model, sftLocation, listener))
            .withSkipSummary("finetune: skipped: up-to-date (" + run.table(Tables.FINETUNE) + ")"));
  }

  /**
   * LoRA targets name modules by architecture ({@code q_proj} for Llama, {@code c_attn} for GPT-2):
   * a mismatch found here is exit 2 at start-up instead of a failed Spark task. Checked only for a
   * local model directory, whose config.json costs nothing to read.
   */
  static void refuseTargetsTheModelLacks(FinetuneSettings s, String model) {
    java.nio.file.Path dir = java.nio.file.Path.of(model);
    if (!Files.isRegularFile(dir.resolve("config.json"))) {
      return;
    }
    try {
      s.lora().projectionsOf(ModelConfig.load(dir));
    } catch (IllegalArgumentException e) {
      throw new UnusableInputException(
          "editforge.finetune.lora.targets: " + e.getMessage() + " (model " + model + ")");
    }
  }

  /**
   * {@code method = full} keeps four float32 copies of the model; refusing before any work beats an
   * out-of-memory kill hours into a run. Throws (exit 2) with the estimate when it cannot fit.
   */
  static void refuseFullTrainingThatCannotFit(StageContext ctx, FinetuneSettings s, String model) {
    java.nio.file.Path dir = ModelDirs.localize(model, ctx.hadoopConf().get(), ctx::say);
    ModelConfig config = ModelConfig.load(dir);
    long memory = s.fullMemoryBytes();
    String source = "editforge.finetune.full-memory";
    if (memory <= 0 && ctx.spark() == null) {
      // --dry-run starts no Spark: judge against this machine, as a local run would
      memory = physicalMemory();
      source = "this machine's memory";
    } else if (memory <= 0) {
      org.apache.spark.SparkConf conf = ctx.spark().sparkContext().getConf();
      boolean local = ctx.spark().sparkContext().isLocal();
      String key = local ? "spark.driver.memory" : "spark.executor.memory";
      if (conf.contains(key)) {
        memory = conf.getSizeAsBytes(key);
        source = key;
      } else {
        memory = physicalMemory();
        source = "this machine's memory";
      }
    }
    String problem = FullFinetune.check(config, memory, source);
    if (problem != null) {
      throw new UnusableInputException(problem);
    }
  }

  private static long physicalMemory() {
    java.lang.management.OperatingSystemMXBean os =
        java.lang.management.ManagementFactory.getOperatingSystemMXBean();
    if (os instanceof com.sun.management.OperatingSystemMXBean sun) {
      return sun.getTotalMemorySize();
    }
    return Runtime.getRuntime().maxMemory();
  }

  /**
   * {@code <run-dir>/_work/finetune-<fingerprint>/checkpoints}: keyed by the fingerprint, so only a
   * rerun with the same inputs and settings resumes from them.
   */
  static WorkParts checkpoints(RunDir run, String fingerprint) {
    return WorkParts.of(
        run,
        "finetune-"
            + fingerprint.substring(0, Math.min(16, fingerprint.length()))
            + "/checkpoints");
  }

  /**
   * Trains in one Spark task and writes adapter/, merged/ and trainer_log.json into {@code out}.
   */
  static void train(
      StageOutput.Staged out,
      FinetuneSettings s,
      String model,
      String sftLocation,
      FinetuneRunner.StepListener listener)
      throws IOException {
    StageContext ctx = out.context();
    RunDir run = ctx.runDir();
    List<Example> rows = new ArrayList<>();
    for (Row r : ctx.spark().read().parquet(sftLocation).collectAsList()) {
      rows.add(Example.of(SftTable.fromRow(r)));
    }
    if (rows.isEmpty()) {
      throw new UnusableInputException("sft table " + sftLocation + " has no rows to train on");
    }
    WorkParts checkpoints = checkpoints(run, out.manifest().fingerprint());
    ctx.say(
        "finetune: "
            + rows.size()
            + " sft rows from "
            + sftLocation
            + ", base model "
            + model
            + (s.gpus() > 0 ? ", " + s.gpus() + " GPU(s)" : ", CPU")
            + "; checkpoints in "
            + checkpoints.dir());
    // the rows travel as a broadcast, not inside the task closure (an sft table can be large)
    Broadcast<ArrayList<Example>> data =
        JavaSparkContext.fromSparkContext(ctx.spark().sparkContext())
            .broadcast(new ArrayList<>(rows));
    // step, train and eval loss reach this console through a file the task rewrites as it trains
    Path progressFile = new Path(checkpoints.dir().getParent(), TrainingProgress.FILE);
    String json;
    try (TrainingProgress.Tail tail =
        TrainingProgress.Tail.start(
            progressFile,
            ctx.hadoopConf().get(),
            ctx::say,
            ctx.settings().spark().progressInterval())) {
      Task task =
          new Task(
              s,
              model,
              data,
              out.uri(),
              checkpoints.dir().toString(),
              ctx.hadoopConf(),
              listener,
              new TrainingProgress.Sink(progressFile, ctx.hadoopConf()));
      json = SingleTask.run(ctx.spark(), s.gpus(), "finetune " + model, task, ctx::say);
    } finally {
      data.destroy();
    }
    FinetuneRunner.Result r = Json.MAPPER.readValue(json, FinetuneRunner.Result.class);
    Manifest manifest = out.manifest();
    manifest
        .count("input", rows.size())
        .count("accepted", rows.size())
        .count("rejected", 0)
        .count("duplicates", 0)
        .count("output", r.steps());
    manifest
        .count("train_samples", r.trainSamples())
        .count("eval_samples", r.evalSamples())
        .count("train_rows", r.trainRows())
        .count("train_tokens", r.trainTokens())
        .count("truncated_tokens", r.truncatedTokens())
        .count("steps", r.steps())
        .count("resumed_from_step", r.resumedFrom())
        .count("best_step", r.bestStep())
        .count("output_step", r.outputStep())
        .count("all_masked_rows", r.allMaskedRows())
        .count("added_tokens", r.addedTokens());
    manifest.put("initial_eval_loss", finite(r.initialEvalLoss()));
    manifest.put("final_eval_loss", finite(r.finalEvalLoss()));
    manifest.put("best_eval_loss", finite(r.bestEvalLoss()));
    manifest.put("first_train_loss", finite(r.firstTrainLoss()));
    manifest.put("last_train_loss", finite(r.lastTrainLoss()));
    manifest.put("device", r.device());
    manifest.put("base_model", model);
    manifest.put("sft", sftLocation);
    manifest.put("batching", s.batching().wireName());
    manifest.put("method", s.method());
    if (!s.fullParameters()) {
      manifest.put("adapter", run.path(Tables.FINETUNE + "/adapter").toString());
    }
    manifest.put("merged", run.path(Tables.FINETUNE + "/merged").toString());
    // the loss curves: initial_eval_loss, train_loss and eval_loss as [step, loss] pairs
    manifest.put("trainer_log", run.path(Tables.FINETUNE + "/" + TRAINER_LOG).toString());
    // the whole _work/finetune-<fingerprint>/ directory holds nothing but the checkpoints
    out.afterCommit(() -> run.delete(checkpoints.dir().getParent()));
    out.summary(
        String.format(
            Locale.ROOT,
            "finetune: %d steps%s on %s (%d train / %d eval rows, %s batching into %d rows); eval loss %.4f -> %.4f"
                + " (best %.4f at step %d); adapter + merged model in %s",
            r.steps(),
            r.resumedFrom() > 0 ? " (resumed from step " + r.resumedFrom() + ")" : "",
            r.device(),
            r.trainSamples(),
            r.evalSamples(),
            s.batching().wireName(),
            r.trainRows(),
            r.initialEvalLoss(),
            r.finalEvalLoss(),
            r.bestEvalLoss(),
            r.bestStep(),
            run.table(Tables.FINETUNE)));
  }

  private static Object finite(double d) {
    return Double.isFinite(d) ? d : null;
  }

  /** Fingerprint of every data file under a path (a Parquet directory or a file). */
  static String treeFingerprint(FileSystem fs, Path p) throws IOException {
    List<String> parts = new ArrayList<>();
    FileStatus st = fs.getFileStatus(p);
    if (st.isFile()) {
      return Fingerprints.ofFile(fs, p);
    }
    List<FileStatus> files = new ArrayList<>();
    var it = fs.listFiles(p, true);
    while (it.hasNext()) {
      FileStatus f = it.next();
      String name = f.getPath().getName();
      if (!name.startsWith("_") && !name.startsWith(".")) {
        files.add(f);
      }
    }
    files.sort((a, b) -> a.getPath().toString().compareTo(b.getPath().toString()));
    for (FileStatus f : files) {
      parts.add(f.getPath().getName() + "=" + Fingerprints.ofFile(fs, f.getPath()));
    }
    return dev.editforge.io.Ids.of(parts.toArray(new String[0]));
  }

  /** An sft row in a form Spark can ship to the task. */
  public record Example(
      String prompt,
      String completion,
      String[] roles,
      String[] contents,
      String source,
      String originId,
      Double score)
      implements Serializable {
    static Example of(SftRow r) {
      String[] roles = new String[r.messages().size()];
      String[] contents = new String[roles.length];
      for (int i = 0; i < roles.length; i++) {
        roles[i] = r.messages().get(i).role();
        contents[i] = r.messages().get(i).content();
      }
      return new Example(
          r.prompt(),
          r.completion(),
          roles,
          contents,
          r.source().wireName(),
          r.originId(),
          r.score());
    }

    SftRow row() {
      List<ChatMessage> messages = new ArrayList<>();
      for (int i = 0; i < roles.length; i++) {
        messages.add(new ChatMessage(roles[i], contents[i]));
      }
      return new SftRow(prompt, completion, messages, SftSource.fromWire(source), originId, score);
    }
  }

  /** The body of the one training task: returns the {@link FinetuneRunner.Result} as JSON. */
  static final class Task implements Function<Integer, String> {
    private static final long serialVersionUID = 1L;
    private final FinetuneSettings settings;
    private final String model;
    private final Broadcast<ArrayList<Example>> rows;
    private final String staging;
    private final String checkpoints;
    private final HadoopConf conf;
    private final FinetuneRunner.StepListener listener;
    private final FinetuneRunner.ProgressSink progress;

    Task(
        FinetuneSettings settings,
        String model,
        Broadcast<ArrayList<Example>> rows,
        String staging,
        String checkpoints,
        HadoopConf conf,
        FinetuneRunner.StepListener listener,
        FinetuneRunner.ProgressSink progress) {
      this.settings = settings;
      this.model = model;
      this.rows = rows;
      this.staging = staging;
      this.checkpoints = checkpoints;
      this.conf = conf;
      this.listener = listener;
      this.progress = progress;
    }

    @Override
    public String call(Integer ignored) throws Exception {
      DjlOffline.ensure();
      java.util.function.Consumer<String> log = LOG::info;
      java.nio.file.Path modelDir = ModelDirs.localize(model, conf.get(), log);
      java.nio.file.Path out = Files.createTempDirectory("editforge-finetune-");
      try {
        List<SftRow> sft = rows.value().stream().map(Example::row).toList();
        CheckpointStore store = new CheckpointStore(new Path(checkpoints), conf.get());
        FinetuneRunner.Result r =
            new FinetuneRunner(settings, log)
                .run(
                    sft,
                    modelDir,
                    model,
                    SingleTask.device(settings.gpus()),
                    store,
                    out,
                    listener != null ? listener : (step, total) -> {},
                    progress);
        Path target = new Path(staging);
        FileSystem fs = target.getFileSystem(conf.get());
        fs.copyFromLocalFile(false, true, new Path(out.toUri()), target);
        return Json.MAPPER.writeValueAsString(r);
      } finally {
        try {
          FinetuneRunner.deleteTree(out);
        } catch (IOException e) {
          throw new UncheckedIOException(e);
        }
      }
    }
  }
}
