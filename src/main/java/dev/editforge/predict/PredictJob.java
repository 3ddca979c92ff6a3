package dev.editforge.predict;

import static org.apache.spark.sql.types.DataTypes.BooleanType;
import static org.apache.spark.sql.types.DataTypes.IntegerType;
import static org.apache.spark.sql.types.DataTypes.StringType;
import static org.apache.spark.sql.types.DataTypes.createArrayType;
import static org.apache.spark.sql.types.DataTypes.createStructField;
import static org.apache.spark.sql.types.DataTypes.createStructType;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import dev.editforge.io.Fingerprints;
import dev.editforge.io.Manifest;
import dev.editforge.io.Rows;
import dev.editforge.io.RunDir;
import dev.editforge.io.StageTables;
import dev.editforge.io.Tables;
import dev.editforge.io.UnusableInputException;
import dev.editforge.llm.DecoderLoader;
import dev.editforge.llm.DjlOffline;
import dev.editforge.llm.LlmSettings;
import dev.editforge.llm.LoadedDecoder;
import dev.editforge.llm.LocalGenerator;
import dev.editforge.llm.TextGenerator;
import dev.editforge.spark.HadoopConf;
import dev.editforge.spark.ModelDirs;
import dev.editforge.spark.PipelineStage;
import dev.editforge.spark.SingleTask;
import dev.editforge.spark.StageContext;
import dev.editforge.spark.StageOutput;
import dev.editforge.spark.StagePlan;
import java.io.IOException;
import java.io.InputStream;
import java.io.Serializable;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code editforge predict --input logic:FILE}: answers unlabeled logic problems with the tuned
 * model the way seed 004 does ({@link MajorityVoter}: the recipe's inference prompt, {@code voter}
 * samples, majority, {@code attempts}, fallback). The model is {@code predict.model} or this run's
 * {@code finetune/merged}; generation runs as one Spark task (GPU-scheduled with {@code
 * predict.gpus > 0}), as evaluate's does.
 *
 * <p>Output {@code <run-dir>/predictions/}: {@code questions/} (Parquet, one row per question: the
 * answer, attempts, whether it fell back, every sample's extracted answer and text) and the
 * submission ({@code predict.submission}, default {@code submission.jsonl}): the input's lines with
 * each question's {@code answer} set. The input is checked while planning, so a file the recipe
 * cannot answer exits 2 before a model loads.
 */
public final class PredictJob implements PipelineStage {
  public static final String STAGE = "predict";
  public static final String KIND = "logic";
  private static final Logger LOG = LoggerFactory.getLogger(PredictJob.class);

  public static final StructType QUESTIONS_SCHEMA =
      createStructType(
          List.of(
              createStructField("problem_id", StringType, false),
              createStructField("problem_index", IntegerType, false),
              createStructField("question_index", IntegerType, false),
              createStructField("question", StringType, false),
              createStructField("answer", StringType, false),
              createStructField("attempts", IntegerType, false),
              createStructField("fallback", BooleanType, false),
              createStructField("votes", createArrayType(StringType, true), false),
              createStructField("responses", createArrayType(StringType, true), false)));

  /**
   * Opens the generator that answers, inside the generation task; the caller closes it. Tests
   * inject a scripted one.
   */
  public interface Generators extends Serializable {
    TextGenerator open(String model, PredictSettings settings, HadoopConf conf);
  }

  private final Generators generators;

  /** Answers with the local DJL decoder. */
  public PredictJob() {
    this(new LocalModels());
  }

  public PredictJob(Generators generators) {
    this.generators = generators;
  }

  @Override
  public String name() {
    return STAGE;
  }

  @Override
  public List<String> requires() {
    return List.of();
  }

  @Override
  public StagePlan plan(StageContext ctx) throws IOException {
    PredictSettings s = PredictSettings.of(ctx.settings());
    RunDir run = ctx.runDir();
    Path file = inputFile(s.input());
    FileSystem fs = file.getFileSystem(ctx.hadoopConf().get());
    if (!fs.exists(file)) {
      throw new UnusableInputException("predict: input file " + file + " does not exist");
    }
    LogicInput input = LogicInput.parse(file.toString(), read(fs, file));
    List<String> inputs = new ArrayList<>();
    inputs.add("input:" + Fingerprints.ofFile(fs, file));
    String model;
    if (!s.model().isBlank()) {
      model = ModelDirs.normalize(s.model());
      inputs.add("model:" + Fingerprints.ofModel(model));
    } else {
      if (!StageTables.isUsable(run, Tables.FINETUNE)) {
        throw new UnusableInputException(
            "predict needs the tuned model: --model DIR|HUB_ID (editforge.predict.model), or this"
                + " run's finetune output (run `editforge finetune` first)");
      }
      Path merged = run.path(Tables.FINETUNE + "/merged");
      model =
          "file".equals(merged.toUri().getScheme())
              ? java.nio.file.Path.of(merged.toUri()).toString()
              : merged.toString();
      inputs.add(Fingerprints.ofTable(run, Tables.FINETUNE));
    }
    String configHash =
        Fingerprints.configHash(
            ctx.settings()
                .section(STAGE)
                .withoutPath("input")
                .withoutPath("model")
                .withoutPath("gpus")
                .withoutPath("threads")
                .withoutPath("batch-size"));
    String answering = model;
    return StagePlan.of(
        StageOutput.of(
                Tables.PREDICTIONS,
                configHash,
                inputs,
                out -> predict(out, s, input, answering, generators))
            .withSkipSummary(
                "predict: skipped: up-to-date ("
                    + new Path(run.table(Tables.PREDICTIONS), s.submission())
                    + ")"));
  }

  /** The file of {@code logic:FILE}. */
  static Path inputFile(String spec) {
    if (spec == null || spec.isBlank()) {
      throw new UnusableInputException(
          "predict needs the problems to answer: --input logic:FILE (editforge.predict.input)");
    }
    int colon = spec.indexOf(':');
    if (colon < 0 || !spec.substring(0, colon).equals(KIND) || colon == spec.length() - 1) {
      throw new UnusableInputException(
          "predict: --input " + spec + " must be logic:FILE (predict answers logic problems)");
    }
    return new Path(spec.substring(colon + 1));
  }

  private static String read(FileSystem fs, Path file) throws IOException {
    try (InputStream in = fs.open(file)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }

  static void predict(
      StageOutput.Staged out,
      PredictSettings s,
      LogicInput input,
      String model,
      Generators generators)
      throws IOException {
    StageContext ctx = out.context();
    List<LogicInput.Question> questions = input.questions();
    ctx.say(
        String.format(
            Locale.ROOT,
            "predict: %d questions of %d problems from %s with %s (voter %d, attempts %d, fallback %s)",
            questions.size(),
            input.problemCount(),
            input.source(),
            model,
            s.voter(),
            s.attempts(),
            s.fallback()));
    List<MajorityVoter.Answer> answers =
        SingleTask.run(
            ctx.spark(),
            s.gpus(),
            "predict with " + model,
            new Task(generators, model, s, questions, ctx.hadoopConf()),
            ctx::say);

    List<Row> rows = new ArrayList<>();
    List<String> letters = new ArrayList<>();
    long fallbacks = 0;
    long retried = 0;
    for (int i = 0; i < questions.size(); i++) {
      LogicInput.Question q = questions.get(i);
      MajorityVoter.Answer a = answers.get(i);
      letters.add(a.answer());
      fallbacks += a.fallback() ? 1 : 0;
      retried += a.attempts() > 1 ? 1 : 0;
      rows.add(
          RowFactory.create(
              q.problemId(),
              q.problemIndex(),
              q.questionIndex(),
              q.question(),
              a.answer(),
              a.attempts(),
              a.fallback(),
              Rows.seq(a.votes()),
              Rows.seq(a.responses())));
    }
    ctx.spark()
        .createDataFrame(rows, QUESTIONS_SCHEMA)
        .coalesce(1)
        .write()
        .parquet(new Path(out.path(), "questions").toString());
    Path submission = new Path(out.path(), s.submission());
    ctx.runDir().writeString(submission, input.submission(letters));

    Manifest m = out.manifest();
    m.count("input", questions.size())
        .count("accepted", questions.size())
        .count("rejected", 0)
        .count("duplicates", 0)
        .count("output", questions.size())
        .count("problems", input.problemCount())
        .count("questions", questions.size())
        .count("retried", retried)
        .count("fallbacks", fallbacks);
    m.put("model", model);
    m.put("input_file", input.source());
    m.put("submission", s.submission());
    m.put("voter", s.voter());
    m.put("attempts", s.attempts());
    m.put("fallback", s.fallback());
    m.put("cut_at", s.cutAt());
    out.summary(
        String.format(
            Locale.ROOT,
            "predict: answered %d questions of %d problems (%d retried, %d fell back to %s) -> %s",
            questions.size(),
            input.problemCount(),
            retried,
            fallbacks,
            s.fallback(),
            new Path(ctx.runDir().table(Tables.PREDICTIONS), s.submission())));
  }

  /** The one generation task: every question through one generator. */
  static final class Task implements Function<Integer, ArrayList<MajorityVoter.Answer>> {
    private static final long serialVersionUID = 1L;
    private final Generators generators;
    private final String model;
    private final PredictSettings settings;
    private final ArrayList<LogicInput.Question> questions;
    private final HadoopConf conf;

    Task(
        Generators generators,
        String model,
        PredictSettings settings,
        List<LogicInput.Question> questions,
        HadoopConf conf) {
      this.generators = generators;
      this.model = model;
      this.settings = settings;
      this.questions = new ArrayList<>(questions);
      this.conf = conf;
    }

    @Override
    public ArrayList<MajorityVoter.Answer> call(Integer ignored) {
      try (TextGenerator g = generators.open(model, settings, conf)) {
        return new ArrayList<>(new MajorityVoter(g, settings).answer(questions));
      }
    }
  }

  /** The local DJL decoder of {@code model}, bound to the task's device; closing it frees it. */
  static final class LocalModels implements Generators {
    private static final long serialVersionUID = 1L;

    @Override
    public TextGenerator open(String model, PredictSettings s, HadoopConf conf) {
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
              .withChatTemplate(s.chat() ? s.chatTemplate() : "model");
      LoadedDecoder dec = DecoderLoader.load(dir, device, DecoderLoader.dtype(s.dtype(), device));
      return new LocalGenerator(dec, llm, true);
    }
  }
}
