package dev.editforge.evaluate;

import static org.apache.spark.sql.types.DataTypes.BooleanType;
import static org.apache.spark.sql.types.DataTypes.DoubleType;
import static org.apache.spark.sql.types.DataTypes.IntegerType;
import static org.apache.spark.sql.types.DataTypes.StringType;
import static org.apache.spark.sql.types.DataTypes.createArrayType;
import static org.apache.spark.sql.types.DataTypes.createStructField;
import static org.apache.spark.sql.types.DataTypes.createStructType;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import dev.editforge.config.EvaluateSettings;
import dev.editforge.io.Fingerprints;
import dev.editforge.io.Manifest;
import dev.editforge.io.Rows;
import dev.editforge.io.RunDir;
import dev.editforge.io.StageTables;
import dev.editforge.io.TableInput;
import dev.editforge.io.Tables;
import dev.editforge.io.UnusableInputException;
import dev.editforge.judge.Judge;
import dev.editforge.judge.JudgeSettings;
import dev.editforge.llm.ChatMessage;
import dev.editforge.llm.DecoderLoader;
import dev.editforge.llm.DjlOffline;
import dev.editforge.llm.GenerationRequest;
import dev.editforge.llm.GenerationResult;
import dev.editforge.llm.LlmSettings;
import dev.editforge.llm.LoadedDecoder;
import dev.editforge.llm.LocalGenerator;
import dev.editforge.llm.SamplingParams;
import dev.editforge.llm.remote.OpenAiClient;
import dev.editforge.spark.HadoopConf;
import dev.editforge.spark.ModelDirs;
import dev.editforge.spark.PipelineStage;
import dev.editforge.spark.SingleTask;
import dev.editforge.spark.StageContext;
import dev.editforge.spark.StageOutput;
import dev.editforge.spark.StagePlan;
import dev.editforge.text.AnswerPrompt;
import dev.editforge.text.Json;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code editforge evaluate}: SEAL's headline metric, no-context QA accuracy: every question of the
 * held-out articles is asked with SEAL's answer prompt WITHOUT the passage ({@link AnswerPrompt}:
 * "Let's answer a question directly and concisely.\nQuestion: Topic:
 * {title}\n{question}\nAnswer:\n"), greedy, at most {@code max-new-tokens}, of the base model and
 * of the tuned model (this run's {@code finetune/merged} by default), side by side; answers are
 * graded by the configured judge ({@code editforge.judge}) on the driver. Generation runs as one
 * Spark task (GPU-scheduled with {@code evaluate.gpus > 0}), the two models one after the other.
 *
 * <p>Output {@code <run-dir>/evaluation/}: {@code articles/} (Parquet, one row per article:
 * questions, correct answers and accuracy of each model), {@code questions/} (Parquet, one row per
 * question: both answers and verdicts), {@code summary.json}, and the manifest; the console shows
 * the per-article table and the totals. Accuracy = correct / questions over all questions; the mean
 * of per-article accuracies is reported beside it.
 *
 * <p>A rerun reuses per article what did not change ({@link Reuse}, issue 18): a model's answers
 * when the article's questions, that model's weights, the answer settings and the code version are
 * the same; the verdicts when the judge and the gold answers are too. Only the rest is asked.
 */
public final class EvaluateJob implements PipelineStage {
  public static final String STAGE = "evaluate";
  private static final Logger LOG = LoggerFactory.getLogger(EvaluateJob.class);
  private static final int TABLE_ROWS = 25;

  public static final StructType QUESTIONS_SCHEMA =
      createStructType(
          List.of(
              createStructField("article_id", StringType, false),
              createStructField("title", StringType, false),
              createStructField("question_id", StringType, true),
              createStructField("question", StringType, false),
              createStructField("answers", createArrayType(StringType, false), false),
              createStructField("base_answer", StringType, false),
              createStructField("base_correct", BooleanType, false),
              createStructField("tuned_answer", StringType, false),
              createStructField("tuned_correct", BooleanType, false)));

  public static final StructType ARTICLES_SCHEMA =
      createStructType(
          List.of(
              createStructField("article_id", StringType, false),
              createStructField("title", StringType, false),
              createStructField("questions", IntegerType, false),
              createStructField("base_correct", IntegerType, false),
              createStructField("tuned_correct", IntegerType, false),
              createStructField("base_accuracy", DoubleType, false),
              createStructField("tuned_accuracy", DoubleType, false)));

  /**
   * Compares the base model with {@code --tuned} or the run's finetune output on {@code --articles}
   * or the run's articles; an absent run table is exit 2 on its own and passed over in a pipeline
   * (the runner decides).
   */
  public EvaluateJob() {}

  @Override
  public String name() {
    return STAGE;
  }

  /** One question to ask, shippable to the task. */
  public record Question(
      String articleId, String title, String questionId, String question, List<String> answers)
      implements Serializable {
    public String prompt() {
      return AnswerPrompt.render(title, question);
    }
  }

  /** One article's result. */
  public record ArticleResult(
      String articleId, String title, int questions, int baseCorrect, int tunedCorrect) {
    public double baseAccuracy() {
      return questions == 0 ? 0 : (double) baseCorrect / questions;
    }

    public double tunedAccuracy() {
      return questions == 0 ? 0 : (double) tunedCorrect / questions;
    }
  }

  @Override
  public StagePlan plan(StageContext ctx) throws IOException {
    EvaluateSettings s = ctx.settings().evaluate();
    RunDir run = ctx.runDir();
    String tuned;
    List<String> inputs = new ArrayList<>();
    if (!s.tuned().isBlank()) {
      tuned = ModelDirs.normalize(s.tuned());
      inputs.add("tuned:" + tuned);
    } else {
      if (!StageTables.isUsable(run, Tables.FINETUNE)) {
        throw UnusableInputException.table(
            STAGE, run, Tables.FINETUNE, Tables.producer(Tables.FINETUNE));
      }
      Path merged = run.path(Tables.FINETUNE + "/merged");
      tuned =
          "file".equals(merged.toUri().getScheme())
              ? java.nio.file.Path.of(merged.toUri()).toString()
              : merged.toString();
      inputs.add(Fingerprints.ofTable(run, Tables.FINETUNE));
    }
    TableInput source =
        TableInput.resolve(
            run, s.articles(), "editforge.evaluate.articles", Tables.ARTICLES, STAGE);
    String articles = source.uri();
    inputs.add(source.fingerprint());
    // The run's tables first: absent, the stage has nothing to read (passed over in a pipeline).
    String base = !s.model().isBlank() ? s.model() : ctx.settings().finetune().model();
    if (base.isBlank()) {
      throw new UnusableInputException(
          "evaluate needs the base model: --model DIR|HUB_ID (editforge.evaluate.model or editforge.finetune.model)");
    }
    base = ModelDirs.normalize(base);
    inputs.add("base:" + base);
    String configHash =
        Fingerprints.configHash(
            ctx.settings()
                .section(STAGE)
                .withoutPath("gpus")
                .withoutPath("threads")
                .withoutPath("probe")
                .withoutPath("identity-probe")
                .withFallback(ctx.settings().raw().withOnlyPath("editforge.judge")));
    String baseModel = base;
    return StagePlan.of(
        StageOutput.of(
                Tables.EVALUATION,
                configHash,
                inputs,
                out -> evaluate(out, s, baseModel, tuned, articles))
            .withSkipSummary(
                "evaluate: skipped: up-to-date (" + run.table(Tables.EVALUATION) + ")"));
  }

  /** Asks every question of both models in one task, grades the answers and writes the outputs. */
  static void evaluate(
      StageOutput.Staged out, EvaluateSettings s, String base, String tuned, String articles)
      throws IOException {
    StageContext ctx = out.context();
    Asked asked = questions(ctx, s, articles);
    List<Question> questions = asked.questions();
    ctx.say(
        String.format(
            Locale.ROOT,
            "evaluate: %d questions of %d articles; base %s vs tuned %s; judge %s",
            questions.size(),
            asked.articles(),
            base,
            tuned,
            ctx.settings().judge().kind()));
    Reuse reuse =
        Reuse.plan(
            questions,
            ctx.force() ? Map.of() : Reuse.read(ctx.runDir()),
            ReuseKeys.of(ctx, base, tuned));
    int[] baseTodo = reuse.todo(0);
    int[] tunedTodo = reuse.todo(1);
    String[][] answers = reuse.answers();
    if (baseTodo.length > 0 || tunedTodo.length > 0) {
      if (reuse.reusedAnswers() > 0) {
        ctx.say(
            String.format(
                Locale.ROOT,
                "evaluate: %d of %d articles answered as before; asking %d questions of the base"
                    + " model, %d of the tuned",
                reuse.reusedArticles(),
                asked.articles(),
                baseTodo.length,
                tunedTodo.length));
      }
      Task task =
          new Task(
              s,
              base,
              tuned,
              pick(questions, baseTodo),
              pick(questions, tunedTodo),
              ctx.hadoopConf());
      String[][] fresh =
          SingleTask.run(
              ctx.spark(), s.gpus(), "evaluate " + base + " vs " + tuned, task, ctx::say);
      for (int i = 0; i < baseTodo.length; i++) {
        answers[0][baseTodo[i]] = fresh[0][i];
      }
      for (int i = 0; i < tunedTodo.length; i++) {
        answers[1][tunedTodo[i]] = fresh[1][i];
      }
    } else {
      ctx.say("evaluate: every article answered as before; no model is loaded");
    }

    List<Boolean> baseCorrect;
    List<Boolean> tunedCorrect;
    try (JudgeHandle judge = JudgeHandle.of(ctx)) {
      baseCorrect = reuse.judge(0, judge.judge(), questions);
      tunedCorrect = reuse.judge(1, judge.judge(), questions);
    }
    reuse.write(ctx.runDir(), out.path(), questions, baseCorrect, tunedCorrect);

    Map<String, int[]> perArticle = new LinkedHashMap<>();
    Map<String, String> titles = new LinkedHashMap<>();
    List<Row> questionRows = new ArrayList<>();
    for (int i = 0; i < questions.size(); i++) {
      Question q = questions.get(i);
      int[] c = perArticle.computeIfAbsent(q.articleId(), k -> new int[3]);
      titles.put(q.articleId(), q.title());
      c[0]++;
      c[1] += baseCorrect.get(i) ? 1 : 0;
      c[2] += tunedCorrect.get(i) ? 1 : 0;
      questionRows.add(
          RowFactory.create(
              q.articleId(),
              q.title(),
              q.questionId(),
              q.question(),
              Rows.seq(q.answers()),
              answers[0][i],
              baseCorrect.get(i),
              answers[1][i],
              tunedCorrect.get(i)));
    }
    List<ArticleResult> results = new ArrayList<>();
    List<Row> articleOut = new ArrayList<>();
    for (Map.Entry<String, int[]> e : perArticle.entrySet()) {
      int[] c = e.getValue();
      ArticleResult r = new ArticleResult(e.getKey(), titles.get(e.getKey()), c[0], c[1], c[2]);
      results.add(r);
      articleOut.add(
          RowFactory.create(
              r.articleId(),
              r.title(),
              r.questions(),
              r.baseCorrect(),
              r.tunedCorrect(),
              r.baseAccuracy(),
              r.tunedAccuracy()));
    }
    long baseTotal = baseCorrect.stream().filter(b -> b).count();
    long tunedTotal = tunedCorrect.stream().filter(b -> b).count();
    double baseAcc = (double) baseTotal / questions.size();
    double tunedAcc = (double) tunedTotal / questions.size();
    double baseMean = results.stream().mapToDouble(ArticleResult::baseAccuracy).average().orElse(0);
    double tunedMean =
        results.stream().mapToDouble(ArticleResult::tunedAccuracy).average().orElse(0);

    Manifest manifest = out.manifest();
    manifest
        .count("input", questions.size())
        .count("accepted", questions.size())
        .count("rejected", 0)
        .count("duplicates", 0)
        .count("output", questions.size())
        .count("articles", results.size())
        .count("questions", questions.size())
        .count("base_correct", baseTotal)
        .count("tuned_correct", tunedTotal)
        .count("reused", reuse.reusedArticles())
        .count("computed", results.size() - reuse.reusedArticles())
        .count("removed", reuse.removed())
        .count("answers_generated", baseTodo.length + tunedTodo.length)
        .count("rejudged", reuse.rejudged());
    Map<String, Object> summary = new LinkedHashMap<>();
    summary.put("base_model", base);
    summary.put("tuned_model", tuned);
    summary.put("articles_table", articles);
    summary.put("judge", ctx.settings().judge().kind());
    summary.put("articles", results.size());
    summary.put("questions", questions.size());
    summary.put("base_correct", baseTotal);
    summary.put("tuned_correct", tunedTotal);
    summary.put("base_accuracy", baseAcc);
    summary.put("tuned_accuracy", tunedAcc);
    summary.put("base_article_mean_accuracy", baseMean);
    summary.put("tuned_article_mean_accuracy", tunedMean);
    summary.put("gain", tunedAcc - baseAcc);
    summary.forEach(manifest::put);

    ctx.spark()
        .createDataFrame(articleOut, ARTICLES_SCHEMA)
        .coalesce(1)
        .write()
        .parquet(new Path(out.path(), "articles").toString());
    ctx.spark()
        .createDataFrame(questionRows, QUESTIONS_SCHEMA)
        .coalesce(1)
        .write()
        .parquet(new Path(out.path(), "questions").toString());
    ctx.runDir().writeString(new Path(out.path(), "summary.json"), Json.pretty(summary));
    ctx.say(table(results, baseTotal, tunedTotal, questions.size(), baseMean, tunedMean));
    out.summary(
        String.format(
            Locale.ROOT,
            "evaluate: no-context QA accuracy base %.4f, tuned %.4f (%+.4f) over %d"
                + " questions of %d articles; results in %s",
            baseAcc,
            tunedAcc,
            tunedAcc - baseAcc,
            questions.size(),
            results.size(),
            ctx.runDir().table(Tables.EVALUATION)));
  }

  /** The questions to ask and the number of articles they were drawn from. */
  record Asked(List<Question> questions, int articles) {}

  /** The questions of the first {@code max-articles} articles by article_id (all when 0). */
  static Asked questions(StageContext ctx, EvaluateSettings s, String articles) {
    List<Row> articleRows =
        ctx.spark().read().parquet(articles).orderBy("article_id").collectAsList();
    int articleCount =
        s.maxArticles() > 0 ? Math.min(s.maxArticles(), articleRows.size()) : articleRows.size();
    List<Question> questions = new ArrayList<>();
    for (Row a : articleRows.subList(0, articleCount)) {
      String id = a.getString(a.fieldIndex("article_id"));
      String title = a.getString(a.fieldIndex("title"));
      for (Row q : a.<Row>getList(a.fieldIndex("questions"))) {
        questions.add(
            new Question(
                id,
                title,
                q.getString(q.fieldIndex("question_id")),
                q.getString(q.fieldIndex("question")),
                List.copyOf(q.<String>getList(q.fieldIndex("answers")))));
      }
    }
    if (questions.isEmpty()) {
      throw new UnusableInputException(
          "articles table " + articles + " has no questions to evaluate on");
    }
    return new Asked(questions, articleCount);
  }

  static List<Question> pick(List<Question> questions, int[] indices) {
    List<Question> out = new ArrayList<>(indices.length);
    for (int i : indices) {
      out.add(questions.get(i));
    }
    return out;
  }

  static List<Judge.Item> items(List<Question> questions, String[] answers) {
    List<Judge.Item> out = new ArrayList<>(questions.size());
    for (int i = 0; i < questions.size(); i++) {
      Question q = questions.get(i);
      out.add(
          new Judge.Item(
              AnswerPrompt.questionField(q.title(), q.question()), q.answers(), answers[i]));
    }
    return out;
  }

  /** The printed table: one line per article (the first {@value #TABLE_ROWS}), then the totals. */
  static String table(
      List<ArticleResult> results,
      long baseTotal,
      long tunedTotal,
      int questions,
      double baseMean,
      double tunedMean) {
    StringBuilder b = new StringBuilder();
    String fmt = "%-18s %-32s %9s %6s %6s %8s %8s%n";
    b.append(
        String.format(
            Locale.ROOT,
            fmt,
            "article_id",
            "title",
            "questions",
            "base",
            "tuned",
            "base_acc",
            "tuned_acc"));
    int shown = 0;
    for (ArticleResult r : results) {
      if (shown++ == TABLE_ROWS) {
        b.append(
            String.format(
                Locale.ROOT,
                "... %d more articles in the articles/ output%n",
                results.size() - TABLE_ROWS));
        break;
      }
      b.append(
          String.format(
              Locale.ROOT,
              "%-18s %-32s %9d %6d %6d %8.4f %8.4f%n",
              clip(r.articleId(), 18),
              clip(r.title(), 32),
              r.questions(),
              r.baseCorrect(),
              r.tunedCorrect(),
              r.baseAccuracy(),
              r.tunedAccuracy()));
    }
    b.append(
        String.format(
            Locale.ROOT,
            "%-18s %-32s %9d %6d %6d %8.4f %8.4f%n",
            "TOTAL",
            results.size() + " articles",
            questions,
            baseTotal,
            tunedTotal,
            (double) baseTotal / questions,
            (double) tunedTotal / questions));
    b.append(
        String.format(
            Locale.ROOT,
            "%-18s %-32s %9s %6s %6s %8.4f %8.4f",
            "MEAN",
            "of per-article accuracy",
            "",
            "",
            "",
            baseMean,
            tunedMean));
    return b.toString();
  }

  private static String clip(String s, int n) {
    String one = s.replace('\n', ' ');
    return one.length() <= n ? one : one.substring(0, n - 1) + "~";
  }

  /** The configured judge and, for the LLM judge, its client (closed after grading). */
  private record JudgeHandle(Judge judge, OpenAiClient client) implements AutoCloseable {
    static JudgeHandle of(StageContext ctx) {
      JudgeSettings js = ctx.settings().judge();
      if ("llm".equals(js.kind())) {
        OpenAiClient client = new OpenAiClient(ctx.settings().remote());
        return new JudgeHandle(
            js.create(
                prompt ->
                    client.chat(
                        js.llmModel(),
                        List.of(ChatMessage.user(prompt)),
                        SamplingParams.greedy(8))),
            client);
      }
      return new JudgeHandle(js.create(null), null);
    }

    @Override
    public void close() {
      if (client != null) {
        client.close();
      }
    }
  }

  /**
   * The one generation task: answers of the base model, then of the tuned model, in question order.
   */
  static final class Task implements Function<Integer, String[][]> {
    private static final long serialVersionUID = 1L;
    private final EvaluateSettings settings;
    private final String base;
    private final String tuned;
    private final List<Question> baseQuestions;
    private final List<Question> tunedQuestions;
    private final HadoopConf conf;

    /** Asks {@code baseQuestions} of the base model and {@code tunedQuestions} of the tuned. */
    Task(
        EvaluateSettings settings,
        String base,
        String tuned,
        List<Question> baseQuestions,
        List<Question> tunedQuestions,
        HadoopConf conf) {
      this.settings = settings;
      this.base = base;
      this.tuned = tuned;
      this.baseQuestions = new ArrayList<>(baseQuestions);
      this.tunedQuestions = new ArrayList<>(tunedQuestions);
      this.conf = conf;
    }

    @Override
    public String[][] call(Integer ignored) {
      DjlOffline.ensure();
      Engine.getEngine("PyTorch");
      JniUtils.setGradMode(false); // per thread in libtorch: no autograd graph while generating
      if (settings.threads() > 0) {
        JniUtils.setNumThreads(settings.threads());
      }
      return new String[][] {answers(base, baseQuestions), answers(tuned, tunedQuestions)};
    }

    /** A model that has nothing to answer is not loaded. */
    private String[] answers(String ref, List<Question> questions) {
      if (questions.isEmpty()) {
        return new String[0];
      }
      java.nio.file.Path dir = ModelDirs.localize(ref, conf.get(), LOG::info);
      ai.djl.Device device = SingleTask.device(settings.gpus());
      boolean chat = !settings.chatTemplate().equals("none");
      LlmSettings llm =
          LlmSettings.defaults()
              .withMaxBatchSize(settings.batchSize())
              .withTruncatePrompt(true)
              .withChatTemplate(chat ? settings.chatTemplate() : "model");
      try (LoadedDecoder dec =
              DecoderLoader.load(dir, device, DecoderLoader.dtype(settings.dtype(), device));
          LocalGenerator gen = new LocalGenerator(dec, llm, false)) {
        SamplingParams greedy = SamplingParams.greedy(settings.maxNewTokens());
        List<GenerationRequest> requests = new ArrayList<>(questions.size());
        for (int i = 0; i < questions.size(); i++) {
          String prompt = questions.get(i).prompt();
          requests.add(
              chat
                  ? GenerationRequest.chat("q" + i, List.of(ChatMessage.user(prompt)), greedy)
                  : GenerationRequest.text("q" + i, prompt, greedy));
        }
        List<GenerationResult> results = gen.generate(requests);
        String[] out = new String[questions.size()];
        for (int i = 0; i < out.length; i++) {
          GenerationResult r = results.get(i);
          out[i] =
              r.ok() && !r.completions().isEmpty() ? r.completions().get(0).text().strip() : "";
        }
        return out;
      } catch (Exception e) {
        throw new RuntimeException(
            "evaluate: generation with " + ref + " failed: " + e.getMessage(), e);
      }
    }
  }
}
