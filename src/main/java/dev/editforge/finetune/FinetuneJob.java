package dev.editforge.finetune;

import com.fasterxml.jackson.databind.ObjectMapper;
import dev.editforge.io.Fingerprints;
import dev.editforge.io.Manifest;
import dev.editforge.io.RunDir;
import dev.editforge.io.StageTables;
import dev.editforge.io.Tables;
import dev.editforge.io.UnusableInputException;
import dev.editforge.llm.ChatMessage;
import dev.editforge.select.SftRow;
import dev.editforge.select.SftSource;
import dev.editforge.select.SftTable;
import dev.editforge.spark.HadoopConf;
import dev.editforge.spark.ModelDirs;
import dev.editforge.spark.PipelineStage;
import dev.editforge.spark.SingleTask;
import dev.editforge.spark.StageContext;
import dev.editforge.spark.StageOutcome;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
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
 * stage-level GPU resource profile when {@code finetune.gpus > 0}, else an ordinary CPU task).
 * The task runs {@link FinetuneRunner}; outputs go to {@code <run-dir>/finetune/}: {@code
 * adapter/} (PEFT), {@code merged/} (Hugging Face layout), {@code trainer_log.json} and the
 * manifest. Checkpoints live in {@code <run-dir>/_work/finetune-<fingerprint>/checkpoints/}, so a
 * killed run (or a lost executor) rerun with the same inputs and settings resumes from the latest
 * one; they are removed once the output is committed. Skips when the output is up to date.
 */
public final class FinetuneJob implements dev.editforge.spark.LegacyStage {
  public static final String STAGE = "finetune";
  public static final String OUTPUT = "finetune";
  private static final Logger LOG = LoggerFactory.getLogger(FinetuneJob.class);

  /**
   * Tests only: called after every step by a task running in this JVM (a local master), so a test
   * can kill a run mid-training. Null in production.
   */
  static volatile FinetuneRunner.StepListener testListener;

  @Override
  public String name() {
    return STAGE;
  }

  @Override
  public java.util.List<String> requires() {
    return java.util.List.of("sft");
  }

  @Override
  public StageOutcome run(StageContext ctx) throws Exception {
    FinetuneSettings s = ctx.settings().finetune();
    RunDir run = ctx.runDir();
    if (s.model().isBlank()) {
      throw new UnusableInputException("finetune needs a base model: --model DIR|HUB_ID (editforge.finetune.model)");
    }
    String sftLocation;
    String sftFingerprint;
    if (!s.sft().isBlank()) {
      Path p = RunDir.qualify(s.sft());
      FileSystem fs = p.getFileSystem(ctx.spark().sparkContext().hadoopConfiguration());
      if (!fs.exists(p)) {
        throw new UnusableInputException("sft table " + p + " (editforge.finetune.sft) does not exist");
      }
      sftLocation = p.toString();
      sftFingerprint = "sft:" + treeFingerprint(fs, p);
    } else {
      if (!StageTables.isUsable(run, Tables.SFT)) {
        throw UnusableInputException.table(STAGE, run, Tables.SFT, "editforge select");
      }
      sftLocation = run.tableUri(Tables.SFT);
      sftFingerprint = Fingerprints.ofTable(run, Tables.SFT);
    }
    String model = ModelDirs.normalize(s.model());
    // gpus/threads/dtype do not change what is learned (beyond float rounding): not in the hash
    String configHash = Fingerprints.configHash(ctx.settings().section(STAGE)
        .withoutPath("gpus").withoutPath("threads").withoutPath("model").withoutPath("sft"));
    String fingerprint = Fingerprints.combine(STAGE, ctx.settings().codeVersion(), configHash,
        List.of(sftFingerprint, "model:" + model));

    Optional<Manifest> upToDate = ctx.force() ? Optional.empty() : StageTables.upToDate(run, OUTPUT, fingerprint);
    if (upToDate.isPresent()) {
      Manifest m = StageTables.markSkipped(run, OUTPUT, upToDate.get());
      ctx.say("finetune: skipped: up-to-date (" + run.table(OUTPUT) + ")");
      return StageOutcome.ok(STAGE, List.of(m));
    }

    List<Example> rows = new ArrayList<>();
    for (Row r : ctx.spark().read().parquet(sftLocation).collectAsList()) {
      rows.add(Example.of(SftTable.fromRow(r)));
    }
    if (rows.isEmpty()) {
      throw new UnusableInputException("sft table " + sftLocation + " has no rows to train on");
    }
    Manifest manifest = Manifest.start(STAGE, OUTPUT, configHash, ctx.settings().codeVersion(), fingerprint);
    Path staging = run.newStaging(OUTPUT);
    Path checkpoints = run.path("_work/finetune-" + fingerprint.substring(0, Math.min(16, fingerprint.length()))
        + "/checkpoints");
    ctx.say("finetune: " + rows.size() + " sft rows from " + sftLocation + ", base model " + model
        + (s.gpus() > 0 ? ", " + s.gpus() + " GPU(s)" : ", CPU") + "; checkpoints in " + checkpoints);
    // the rows travel as a broadcast, not inside the task closure (an sft table can be large)
    Broadcast<ArrayList<Example>> data = JavaSparkContext.fromSparkContext(ctx.spark().sparkContext())
        .broadcast(new ArrayList<>(rows));
    String json;
    try {
      Task task = new Task(s, model, data, staging.toString(), checkpoints.toString(), ctx.hadoopConf());
      json = SingleTask.run(ctx.spark(), s.gpus(), "finetune " + model, task, ctx::say);
    } finally {
      data.destroy();
    }
    FinetuneRunner.Result r = new ObjectMapper().readValue(json, FinetuneRunner.Result.class);

    manifest.count("input", rows.size()).count("accepted", rows.size()).count("rejected", 0).count("duplicates", 0)
        .count("output", r.steps());
    manifest.count("train_samples", r.trainSamples()).count("eval_samples", r.evalSamples())
        .count("train_rows", r.trainRows()).count("train_tokens", r.trainTokens())
        .count("truncated_tokens", r.truncatedTokens()).count("steps", r.steps())
        .count("resumed_from_step", r.resumedFrom()).count("best_step", r.bestStep())
        .count("output_step", r.outputStep());
    manifest.put("initial_eval_loss", finite(r.initialEvalLoss()));
    manifest.put("final_eval_loss", finite(r.finalEvalLoss()));
    manifest.put("best_eval_loss", finite(r.bestEvalLoss()));
    manifest.put("first_train_loss", finite(r.firstTrainLoss()));
    manifest.put("last_train_loss", finite(r.lastTrainLoss()));
    manifest.put("device", r.device());
    manifest.put("base_model", model);
    manifest.put("sft", sftLocation);
    manifest.put("batching", s.batching().wireName());
    manifest.put("adapter", run.path(OUTPUT + "/adapter").toString());
    manifest.put("merged", run.path(OUTPUT + "/merged").toString());
    manifest.finish(Manifest.COMPLETED);
    run.writeString(new Path(staging, RunDir.MANIFEST), manifest.toJson());
    run.commit(staging, OUTPUT);
    new CheckpointStore(checkpoints, run.fs().getConf()).deleteAll();
    ctx.say(String.format(Locale.ROOT,
        "finetune: %d steps%s on %s (%d train / %d eval rows, %s batching into %d rows); eval loss %.4f -> %.4f"
            + " (best %.4f at step %d); adapter + merged model in %s",
        r.steps(), r.resumedFrom() > 0 ? " (resumed from step " + r.resumedFrom() + ")" : "", r.device(),
        r.trainSamples(), r.evalSamples(), s.batching().wireName(), r.trainRows(), r.initialEvalLoss(),
        r.finalEvalLoss(), r.bestEvalLoss(), r.bestStep(), run.table(OUTPUT)));
    return StageOutcome.ok(STAGE, List.of(manifest));
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
  public record Example(String prompt, String completion, String[] roles, String[] contents, String source,
      String originId, Double score) implements Serializable {
    static Example of(SftRow r) {
      String[] roles = new String[r.messages().size()];
      String[] contents = new String[roles.length];
      for (int i = 0; i < roles.length; i++) {
        roles[i] = r.messages().get(i).role();
        contents[i] = r.messages().get(i).content();
      }
      return new Example(r.prompt(), r.completion(), roles, contents, r.source().wireName(), r.originId(), r.score());
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

    Task(FinetuneSettings settings, String model, Broadcast<ArrayList<Example>> rows, String staging,
        String checkpoints, HadoopConf conf) {
      this.settings = settings;
      this.model = model;
      this.rows = rows;
      this.staging = staging;
      this.checkpoints = checkpoints;
      this.conf = conf;
    }

    @Override
    public String call(Integer ignored) throws Exception {
      System.setProperty("ai.djl.offline", "true");
      java.util.function.Consumer<String> log = LOG::info;
      java.nio.file.Path modelDir = ModelDirs.localize(model, conf.get(), log);
      java.nio.file.Path out = Files.createTempDirectory("editforge-finetune-");
      try {
        List<SftRow> sft = rows.value().stream().map(Example::row).toList();
        CheckpointStore store = new CheckpointStore(new Path(checkpoints), conf.get());
        FinetuneRunner.Result r = new FinetuneRunner(settings, log).run(sft, modelDir, model,
            SingleTask.device(settings.gpus()), store, out, (step, total) -> {
              FinetuneRunner.StepListener l = testListener;
              if (l != null) {
                l.afterStep(step, total);
              }
            });
        Path target = new Path(staging);
        FileSystem fs = target.getFileSystem(conf.get());
        fs.copyFromLocalFile(false, true, new Path(out.toUri()), target);
        return new ObjectMapper().writeValueAsString(r);
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
