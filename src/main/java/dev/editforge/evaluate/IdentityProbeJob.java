package dev.editforge.evaluate;

import static org.apache.spark.sql.types.DataTypes.BooleanType;
import static org.apache.spark.sql.types.DataTypes.StringType;
import static org.apache.spark.sql.types.DataTypes.createStructField;
import static org.apache.spark.sql.types.DataTypes.createStructType;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import dev.editforge.config.EvaluateSettings;
import dev.editforge.io.Fingerprints;
import dev.editforge.io.Manifest;
import dev.editforge.io.RunDir;
import dev.editforge.io.StageTables;
import dev.editforge.io.Tables;
import dev.editforge.io.UnusableInputException;
import dev.editforge.llm.ChatMessage;
import dev.editforge.llm.DecoderLoader;
import dev.editforge.llm.DjlOffline;
import dev.editforge.llm.GenerationRequest;
import dev.editforge.llm.GenerationResult;
import dev.editforge.llm.LlmSettings;
import dev.editforge.llm.LoadedDecoder;
import dev.editforge.llm.LocalGenerator;
import dev.editforge.llm.SamplingParams;
import dev.editforge.llm.TextGenerator;
import dev.editforge.spark.HadoopConf;
import dev.editforge.spark.ModelDirs;
import dev.editforge.spark.PipelineStage;
import dev.editforge.spark.SingleTask;
import dev.editforge.spark.StageContext;
import dev.editforge.spark.StageOutput;
import dev.editforge.spark.StagePlan;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code editforge evaluate --probe identity}: seed 002's self-cognition check. The identity
 * questions ({@link IdentityProbe}) are asked, greedy, of the base model ({@code evaluate.model},
 * else {@code finetune.model}) and of the tuned one ({@code evaluate.tuned}, else this run's {@code
 * finetune/merged}) in one Spark task; the console shows both answers side by side and whether
 * {@code select.identity}'s model name and author appear in each. Table {@code identity_probe}: one
 * row per question.
 */
public final class IdentityProbeJob implements PipelineStage {
  private static final Logger LOG = LoggerFactory.getLogger(IdentityProbeJob.class);

  public static final StructType SCHEMA =
      createStructType(
          List.of(
              createStructField("question", StringType, false),
              createStructField("base_answer", StringType, false),
              createStructField("tuned_answer", StringType, false),
              createStructField("base_has_name", BooleanType, true),
              createStructField("base_has_author", BooleanType, true),
              createStructField("tuned_has_name", BooleanType, true),
              createStructField("tuned_has_author", BooleanType, true)));

  /**
   * Opens the generator of one model inside the task, rendering chat requests with {@code
   * chatTemplate}; the caller closes it. Tests inject scripted ones.
   */
  public interface Generators extends Serializable {
    TextGenerator open(
        String model, String chatTemplate, EvaluateSettings settings, HadoopConf conf);
  }

  private final Generators generators;

  public IdentityProbeJob() {
    this(new LocalModels());
  }

  public IdentityProbeJob(Generators generators) {
    this.generators = generators;
  }

  @Override
  public String name() {
    return EvaluateJob.STAGE;
  }

  @Override
  public List<String> requires() {
    return List.of();
  }

  @Override
  public StagePlan plan(StageContext ctx) {
    EvaluateSettings s = ctx.settings().evaluate();
    IdentityProbe probe = IdentityProbe.of(ctx.settings());
    RunDir run = ctx.runDir();
    String base = !s.model().isBlank() ? s.model() : ctx.settings().finetune().model();
    if (base.isBlank()) {
      throw new UnusableInputException(
          "the identity probe needs the base model: --model DIR|HUB_ID (editforge.evaluate.model or editforge.finetune.model)");
    }
    base = ModelDirs.normalize(base);
    List<String> inputs = new ArrayList<>();
    inputs.add("base:" + Fingerprints.ofModel(base));
    String tuned;
    if (!s.tuned().isBlank()) {
      tuned = ModelDirs.normalize(s.tuned());
      inputs.add("tuned:" + Fingerprints.ofModel(tuned));
    } else {
      if (!StageTables.isUsable(run, Tables.FINETUNE)) {
        throw UnusableInputException.table(
            "evaluate --probe identity", run, Tables.FINETUNE, Tables.producer(Tables.FINETUNE));
      }
      Path merged = run.path(Tables.FINETUNE + "/merged");
      tuned =
          "file".equals(merged.toUri().getScheme())
              ? java.nio.file.Path.of(merged.toUri()).toString()
              : merged.toString();
      inputs.add(Fingerprints.ofTable(run, Tables.FINETUNE));
    }
    String configHash =
        Fingerprints.configHash(
            ctx.settings()
                .raw()
                .withOnlyPath("editforge.evaluate.identity-probe")
                .withFallback(ctx.settings().raw().withOnlyPath("editforge.select.identity"))
                .withFallback(
                    ctx.settings().raw().withOnlyPath("editforge.evaluate.chat-template")));
    String b = base;
    return StagePlan.of(
        StageOutput.of(
                Tables.IDENTITY_PROBE, configHash, inputs, out -> probe(out, s, probe, b, tuned))
            .withSkipSummary(
                "evaluate: identity probe skipped: up-to-date ("
                    + run.table(Tables.IDENTITY_PROBE)
                    + ")"));
  }

  private void probe(
      StageOutput.Staged out, EvaluateSettings s, IdentityProbe probe, String base, String tuned) {
    StageContext ctx = out.context();
    ctx.say(
        String.format(
            Locale.ROOT,
            "evaluate: identity probe: %d questions, base %s vs tuned %s",
            probe.questions().size(),
            base,
            tuned));
    String[][] answers =
        SingleTask.run(
            ctx.spark(),
            s.gpus(),
            "identity probe " + base + " vs " + tuned,
            new Task(generators, s, probe, base, tuned, ctx.hadoopConf()),
            ctx::say);
    List<String> before = List.of(answers[0]);
    List<String> after = List.of(answers[1]);
    List<Row> rows = new ArrayList<>();
    long tunedName = 0;
    long tunedAuthor = 0;
    long baseName = 0;
    long baseAuthor = 0;
    for (int i = 0; i < probe.questions().size(); i++) {
      Boolean bn = IdentityProbe.mentions(before.get(i), probe.names());
      Boolean ba = IdentityProbe.mentions(before.get(i), probe.authors());
      Boolean tn = IdentityProbe.mentions(after.get(i), probe.names());
      Boolean ta = IdentityProbe.mentions(after.get(i), probe.authors());
      baseName += Boolean.TRUE.equals(bn) ? 1 : 0;
      baseAuthor += Boolean.TRUE.equals(ba) ? 1 : 0;
      tunedName += Boolean.TRUE.equals(tn) ? 1 : 0;
      tunedAuthor += Boolean.TRUE.equals(ta) ? 1 : 0;
      rows.add(
          RowFactory.create(probe.questions().get(i), before.get(i), after.get(i), bn, ba, tn, ta));
    }
    ctx.spark().createDataFrame(rows, SCHEMA).coalesce(1).write().parquet(out.uri());
    Manifest m = out.manifest();
    int n = probe.questions().size();
    m.count("input", n)
        .count("accepted", n)
        .count("rejected", 0)
        .count("duplicates", 0)
        .count("output", n)
        .count("base_mentions_name", baseName)
        .count("base_mentions_author", baseAuthor)
        .count("tuned_mentions_name", tunedName)
        .count("tuned_mentions_author", tunedAuthor);
    m.put("base_model", base);
    m.put("tuned_model", tuned);
    m.put("names", probe.names());
    m.put("authors", probe.authors());
    ctx.say(probe.table(base, tuned, before, after));
    out.summary(
        String.format(
            Locale.ROOT,
            "evaluate: identity probe: the tuned model names itself in %d/%d answers (base %d/%d),"
                + " its author in %d/%d (base %d/%d) -> %s",
            tunedName,
            n,
            baseName,
            n,
            tunedAuthor,
            n,
            baseAuthor,
            n,
            ctx.runDir().table(Tables.IDENTITY_PROBE)));
  }

  /** The one generation task: the base model's answers, then the tuned model's. */
  static final class Task implements Function<Integer, String[][]> {
    private static final long serialVersionUID = 1L;
    private final Generators generators;
    private final EvaluateSettings settings;
    private final IdentityProbe probe;
    private final String base;
    private final String tuned;
    private final HadoopConf conf;

    Task(
        Generators generators,
        EvaluateSettings settings,
        IdentityProbe probe,
        String base,
        String tuned,
        HadoopConf conf) {
      this.generators = generators;
      this.settings = settings;
      this.probe = probe;
      this.base = base;
      this.tuned = tuned;
      this.conf = conf;
    }

    @Override
    public String[][] call(Integer ignored) {
      return new String[][] {answers(base), answers(tuned)};
    }

    private String[] answers(String model) {
      boolean chat = !probe.chatTemplate().equals("none");
      SamplingParams greedy = SamplingParams.greedy(probe.maxNewTokens());
      List<GenerationRequest> requests = new ArrayList<>();
      for (int i = 0; i < probe.questions().size(); i++) {
        String q = probe.questions().get(i);
        requests.add(
            chat
                ? GenerationRequest.chat("q" + i, List.of(ChatMessage.user(q)), greedy)
                : GenerationRequest.text("q" + i, q, greedy));
      }
      try (TextGenerator g = generators.open(model, probe.chatTemplate(), settings, conf)) {
        List<GenerationResult> results = g.generate(requests);
        String[] out = new String[requests.size()];
        for (int i = 0; i < out.length; i++) {
          GenerationResult r = results.get(i);
          out[i] =
              r.ok() && !r.completions().isEmpty()
                  ? r.completions().get(0).text().strip()
                  : "(no answer: " + r.error() + ")";
        }
        return out;
      }
    }
  }

  /** The local DJL decoder of {@code model}, bound to the task's device; closing it frees it. */
  static final class LocalModels implements Generators {
    private static final long serialVersionUID = 1L;

    @Override
    public TextGenerator open(
        String model, String chatTemplate, EvaluateSettings s, HadoopConf conf) {
      DjlOffline.ensure();
      Engine.getEngine("PyTorch");
      JniUtils.setGradMode(false); // per thread in libtorch: no autograd graph while generating
      if (s.threads() > 0) {
        JniUtils.setNumThreads(s.threads());
      }
      java.nio.file.Path dir = ModelDirs.localize(model, conf.get(), LOG::info);
      ai.djl.Device device = SingleTask.device(s.gpus());
      LlmSettings llm =
          LlmSettings.defaults()
              .withMaxBatchSize(s.batchSize())
              .withTruncatePrompt(true)
              .withChatTemplate(chatTemplate.equals("none") ? "model" : chatTemplate);
      LoadedDecoder dec = DecoderLoader.load(dir, device, DecoderLoader.dtype(s.dtype(), device));
      return new LocalGenerator(dec, llm, true);
    }
  }
}
