package dev.editforge.ttt;

import static org.apache.spark.sql.functions.col;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import com.typesafe.config.Config;
import dev.editforge.config.EvaluateSettings;
import dev.editforge.config.ScoreSettings;
import dev.editforge.config.SelfEditSettings;
import dev.editforge.io.Fingerprints;
import dev.editforge.io.RunDir;
import dev.editforge.io.StageTables;
import dev.editforge.io.TableInput;
import dev.editforge.io.Tables;
import dev.editforge.io.UnusableInputException;
import dev.editforge.llm.DecoderLoader;
import dev.editforge.llm.DjlOffline;
import dev.editforge.llm.GenerationRequest;
import dev.editforge.llm.GenerationResult;
import dev.editforge.llm.LlmSettings;
import dev.editforge.llm.LoadedDecoder;
import dev.editforge.llm.LocalGenerator;
import dev.editforge.llm.SamplingParams;
import dev.editforge.lora.Seeds;
import dev.editforge.spark.HadoopConf;
import dev.editforge.spark.ModelDirs;
import dev.editforge.spark.PipelineStage;
import dev.editforge.spark.SingleTask;
import dev.editforge.spark.StageContext;
import dev.editforge.spark.StageOutput;
import dev.editforge.spark.StagePlan;
import java.io.IOException;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.util.CollectionAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code editforge evaluate --protocol seal}: SEAL's Table 2 (knowledge incorporation, single
 * passage, no-context QA accuracy) on held-out articles, for editforge's own models. Per article:
 *
 * <ul>
 *   <li><b>no_training</b>: the base model answers every question without the passage (SEAL's
 *       answer prompt, greedy, {@code ttt.max-new-tokens}), judged by {@code editforge.judge} (the
 *       scorer's baseline);
 *   <li><b>passage_only</b>: a LoRA adapter (SEAL's inner loop, {@code editforge.ttt.*}) trained on
 *       the passage alone, {@code "{title}\n{context stripped}"} ({@link TttEdit#passageOnly});
 *   <li><b>base_edits</b>: the base model's k self-edits ({@code generate.self-edit.k}; this run's
 *       {@code self_edits} where it has usable ones for the article, else written here with {@code
 *       generate.self-edit}'s template and sampling), one adapter per edit on its train sequences
 *       with the passage appended ({@link TrainSequences}), mean over edits;
 *   <li><b>policy_edits</b>: the same with edits written by {@code evaluate.policy} (null without
 *       one).
 * </ul>
 *
 * Every adapter is trained on the base model ({@code evaluate.model}, else {@code ttt.model}); the
 * edit columns differ only in who wrote the edits, as SEAL's "+ base-model / GPT-4.1 synthetic"
 * rows. Each accuracy is a mean over {@code ttt.eval-times} repeats. An article is one Spark task
 * on the score stage's multi-adapter scorer ({@link ScoreTask}): its passage-only edit and all its
 * edits are scored in one call, so they train together in adapter batches and share the baseline.
 *
 * <p>Output: {@code evaluation_seal}, one row per article ({@link Tables#EVALUATION_SEAL_SCHEMA}),
 * the four means (over articles) in the manifest and printed under SEAL's row names.
 */
public final class SealEvaluationJob implements PipelineStage {
  public static final String STAGE = "evaluate-seal";
  private static final Logger LOG = LoggerFactory.getLogger(SealEvaluationJob.class);

  static final String PASSAGE = "passage";
  static final String BASE = "base";
  static final String POLICY = "policy";

  /** Writes k self-edits per article with a model. */
  public interface EditWriter extends Serializable {
    /** The completions of each article (same order as {@code articles}), k of them each. */
    List<List<String>> write(
        StageContext ctx, String model, List<ArticleWork> articles, SelfEditSettings s)
        throws Exception;
  }

  private final EditScorerFactory factory;
  private final EditWriter writer;

  /** The configured scorer; edits written by the local decoder. */
  public SealEvaluationJob() {
    this(null, null);
  }

  /** Tests inject a fake scorer and writer; null = the configured / local one. */
  public SealEvaluationJob(EditScorerFactory factory, EditWriter writer) {
    this.factory = factory;
    this.writer = writer;
  }

  @Override
  public String name() {
    return STAGE;
  }

  @Override
  public List<String> requires() {
    return List.of();
  }

  /** Means of one article's rows; policy is null when there was no policy model. */
  record ArticleScores(
      String articleId,
      String title,
      int questions,
      double noTraining,
      double passageOnly,
      double baseEdits,
      Double policyEdits,
      int baseEditCount,
      int policyEditCount) {
    Row row() {
      return RowFactory.create(
          articleId,
          title,
          questions,
          noTraining,
          passageOnly,
          baseEdits,
          policyEdits,
          baseEditCount,
          policyEditCount);
    }
  }

  @Override
  public StagePlan plan(StageContext ctx) throws IOException {
    EvaluateSettings e = ctx.settings().evaluate();
    ScoreSettings configured = ScoreSettings.from(ctx.settings());
    RunDir run = ctx.runDir();
    String base = !e.model().isBlank() ? e.model() : configured.model();
    if (base.isBlank()) {
      throw new UnusableInputException(
          "evaluate --protocol seal needs the base model: --model DIR|HUB_ID (editforge.evaluate.model or editforge.ttt.model)");
    }
    base = ModelDirs.normalize(base);
    String policy = e.policy().isBlank() ? "" : ModelDirs.normalize(e.policy());
    ScoreSettings s =
        new ScoreSettings(
            base,
            configured.evalTimes(),
            configured.seed(),
            configured.commitEvery(),
            configured.mode(),
            configured.device(),
            configured.judgeKind(),
            configured.endpoint(),
            configured.lora(),
            configured.maxErrorFraction());
    List<String> inputs = new ArrayList<>();
    TableInput source =
        TableInput.resolve(
            run, e.articles(), "editforge.evaluate.articles", Tables.ARTICLES, STAGE);
    String articles = source.uri();
    inputs.add(source.fingerprint());
    List<ArticleWork> held = heldOut(ctx, articles, e.maxArticles());
    boolean fromTable = StageTables.isUsable(run, Tables.SELF_EDITS);
    inputs.add(fromTable ? Fingerprints.ofTable(run, Tables.SELF_EDITS) : "self_edits:none");
    inputs.add("base:" + base);
    // the policy's weights too: a round's merged model is rewritten in place when the round redoes
    inputs.add("policy:" + policy + (policy.isBlank() ? "" : ":" + Fingerprints.ofModel(policy)));
    String configHash = configHash(ctx);
    EditScorerFactory injected = factory;
    EditWriter w = writer != null ? writer : new LocalEditWriter();
    String baseModel = base;
    return StagePlan.of(
        StageOutput.of(
                Tables.EVALUATION_SEAL,
                configHash,
                inputs,
                out ->
                    evaluate(
                        out,
                        s,
                        injected != null
                            ? injected
                            : ScorerFactories.forSettings(ctx.settings(), s),
                        w,
                        held,
                        articles,
                        fromTable,
                        baseModel,
                        policy))
            .withSkipSummary(
                "evaluate: skipped: up-to-date (" + run.table(Tables.EVALUATION_SEAL) + ")"));
  }

  /** The ttt, judge, self-edit and evaluate sections (not the knobs that only change speed). */
  static String configHash(StageContext ctx) {
    // score's quality threshold changes no result here
    Config ttt =
        ctx.settings().section("ttt").withoutPath("commit-every").withoutPath("max-error-fraction");
    Config all =
        ttt.atPath("ttt")
            .withFallback(ctx.settings().section("judge").atPath("judge"))
            .withFallback(
                ctx.settings().section("generate").withOnlyPath("self-edit").atPath("generate"))
            .withFallback(
                ctx.settings()
                    .section("evaluate")
                    .withoutPath("gpus")
                    .withoutPath("threads")
                    .withoutPath("tuned")
                    .withoutPath("batch-size")
                    .atPath("evaluate"));
    return Fingerprints.configHash(all);
  }

  /**
   * The first {@code max} (0 = all) held-out articles by article_id, with their questions; exit 2
   * when there is none or one has no questions.
   */
  static List<ArticleWork> heldOut(StageContext ctx, String articles, int max) {
    List<Row> rows = ctx.spark().read().parquet(articles).orderBy("article_id").collectAsList();
    if (max > 0 && rows.size() > max) {
      rows = rows.subList(0, max);
    }
    if (rows.isEmpty()) {
      throw new UnusableInputException(
          "articles table " + articles + " has no held-out articles to evaluate on");
    }
    List<ArticleWork> out = new ArrayList<>();
    List<String> without = new ArrayList<>();
    for (Row a : rows) {
      String id = a.getString(a.fieldIndex("article_id"));
      List<ArticleWork.Question> qs = new ArrayList<>();
      List<Row> questions =
          a.isNullAt(a.fieldIndex("questions")) ? List.of() : a.getList(a.fieldIndex("questions"));
      for (Row q : questions) {
        qs.add(
            new ArticleWork.Question(
                q.getString(q.fieldIndex("question")), q.<String>getList(q.fieldIndex("answers"))));
      }
      if (qs.isEmpty()) {
        without.add(id);
      }
      out.add(
          new ArticleWork(
              id,
              a.getString(a.fieldIndex("title")),
              a.getString(a.fieldIndex("context")),
              qs,
              List.of()));
    }
    if (!without.isEmpty()) {
      throw new UnusableInputException(
          String.format(
              Locale.ROOT,
              "articles table %s: %d held-out article(s) have no questions to evaluate on: %s",
              articles,
              without.size(),
              String.join(", ", without.subList(0, Math.min(10, without.size())))));
    }
    return out;
  }

  static void evaluate(
      StageOutput.Staged out,
      ScoreSettings s,
      EditScorerFactory f,
      EditWriter writer,
      List<ArticleWork> held,
      String articlesTable,
      boolean fromTable,
      String base,
      String policy)
      throws Exception {
    StageContext ctx = out.context();
    SelfEditSettings se = ctx.settings().selfEdit();
    int k = se.k();

    // base edits: the run's usable self-edits of each article (first k by edit_id), else written
    Map<String, List<String>> baseEdits = fromTable ? tableEdits(ctx, k) : new HashMap<>();
    List<ArticleWork> toWrite =
        held.stream()
            .filter(a -> baseEdits.getOrDefault(a.articleId(), List.of()).isEmpty())
            .toList();
    int fromRun = held.size() - toWrite.size();
    if (!toWrite.isEmpty()) {
      ctx.say(
          String.format(
              Locale.ROOT,
              "evaluate: writing %d base self-edits for each of %d articles with %s",
              k,
              toWrite.size(),
              base));
      List<List<String>> written = writer.write(ctx, base, toWrite, se);
      for (int i = 0; i < toWrite.size(); i++) {
        baseEdits.put(toWrite.get(i).articleId(), written.get(i));
      }
    }
    Map<String, List<String>> policyEdits = new HashMap<>();
    if (!policy.isBlank()) {
      ctx.say(
          String.format(
              Locale.ROOT,
              "evaluate: writing %d policy self-edits for each of %d articles with %s",
              k,
              held.size(),
              policy));
      List<List<String>> written = writer.write(ctx, policy, held, se);
      for (int i = 0; i < held.size(); i++) {
        policyEdits.put(held.get(i).articleId(), written.get(i));
      }
    }

    List<ArticleWork> work = new ArrayList<>();
    for (ArticleWork a : held) {
      List<ArticleWork.Edit> edits = new ArrayList<>();
      edits.add(new ArticleWork.Edit(editId(a.articleId(), PASSAGE, 0), null));
      addEdits(edits, a.articleId(), BASE, baseEdits.get(a.articleId()));
      addEdits(edits, a.articleId(), POLICY, policyEdits.get(a.articleId()));
      int expected = 1 + (policy.isBlank() ? 1 : 2);
      long kinds = edits.stream().map(x -> kind(x.editId())).distinct().count();
      if (kinds < expected) {
        // a mean over no edits would read as accuracy 0: say so instead
        throw new IllegalStateException(
            "evaluate: no self-edit was written for article "
                + a.articleId()
                + " (generation failed; see the log)");
      }
      work.add(new ArticleWork(a.articleId(), a.title(), a.context(), a.questions(), edits));
    }
    ctx.say(
        String.format(
            Locale.ROOT,
            "evaluate: seal protocol on %d held-out articles (base %s%s; %d of them with base"
                + " edits from this run's self_edits); %d adapters x %d repeats",
            held.size(),
            base,
            policy.isBlank() ? "" : ", policy " + policy,
            fromRun,
            work.stream().mapToInt(w -> w.edits().size()).sum(),
            s.evalTimes()));

    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(ctx.spark().sparkContext());
    jsc.setJobDescription("evaluate --protocol seal: " + work.size() + " articles");
    CollectionAccumulator<String> devices =
        ctx.spark().sparkContext().collectionAccumulator("evaluate devices");
    List<Row> scores =
        jsc.parallelize(work, work.size()).flatMap(new ScoreTask(f, s, devices)).collect();

    List<ArticleScores> results = aggregate(held, scores, !policy.isBlank());
    ctx.spark()
        .createDataFrame(
            results.stream().map(ArticleScores::row).toList(), Tables.EVALUATION_SEAL_SCHEMA)
        .coalesce(1)
        .sortWithinPartitions(col("article_id"))
        .write()
        .parquet(out.uri());

    double[] means = means(results);
    var manifest = out.manifest();
    manifest
        .count("input", held.size())
        .count("accepted", held.size())
        .count("rejected", 0)
        .count("duplicates", 0)
        .count("output", results.size())
        .count("articles", results.size())
        .count("questions", results.stream().mapToLong(ArticleScores::questions).sum())
        .count("adapters", (long) scores.size())
        .count("base_edits_from_run", fromRun)
        .put("protocol", "seal")
        .put("base_model", base)
        .put("policy_model", policy.isBlank() ? null : policy)
        .put("articles_table", articlesTable)
        .put("judge", s.judgeKind())
        .put("eval_times", s.evalTimes())
        .put("k", k)
        .put("no_training", means[0])
        .put("passage_only", means[1])
        .put("base_edits", means[2])
        .put("policy_edits", policy.isBlank() ? null : means[3]);
    ctx.say(table(means, !policy.isBlank(), results.size(), s.evalTimes()));
    out.summary(
        String.format(
            Locale.ROOT,
            "evaluate: seal protocol over %d articles: no training %.4f, passage only %.4f, base"
                + " edits %.4f, policy edits %s; results in %s",
            results.size(),
            means[0],
            means[1],
            means[2],
            policy.isBlank() ? "-" : String.format(Locale.ROOT, "%.4f", means[3]),
            ctx.runDir().table(Tables.EVALUATION_SEAL)));
  }

  static String editId(String articleId, String kind, int index) {
    return articleId + "/" + kind + "/" + index;
  }

  static String kind(String editId) {
    String[] parts = editId.split("/");
    return parts[parts.length - 2];
  }

  private static void addEdits(
      List<ArticleWork.Edit> edits, String articleId, String kind, List<String> completions) {
    if (completions == null) {
      return;
    }
    int i = 0;
    for (String c : completions) {
      // as SEAL: an empty self-edit still trains (on its empty sequence and the passage), so a
      // policy that writes nothing scores what that earns rather than dropping out of the mean
      edits.add(new ArticleWork.Edit(editId(articleId, kind, i), c == null ? "" : c));
      i++;
    }
  }

  /** Usable self-edits (no error, not blank) of the run by article, the first k by edit_id. */
  static Map<String, List<String>> tableEdits(StageContext ctx, int k) {
    List<Row> rows =
        ctx.spark()
            .read()
            .parquet(ctx.runDir().tableUri(Tables.SELF_EDITS))
            .where(col("error").isNull().and(col("completion").isNotNull()))
            .select("article_id", "edit_id", "completion")
            .dropDuplicates("edit_id")
            .orderBy("article_id", "edit_id")
            .collectAsList();
    Map<String, List<String>> out = new HashMap<>();
    for (Row r : rows) {
      if (r.getString(2).isBlank()) {
        continue;
      }
      List<String> l = out.computeIfAbsent(r.getString(0), a -> new ArrayList<>());
      if (l.size() < k) {
        l.add(r.getString(2));
      }
    }
    return out;
  }

  /**
   * Per article: the baseline, and the mean adapter accuracy of each kind over edits and repeats.
   */
  static List<ArticleScores> aggregate(List<ArticleWork> held, List<Row> scores, boolean policy) {
    Map<String, Map<String, double[]>> sums = new TreeMap<>();
    Map<String, double[]> baseline = new HashMap<>();
    Map<String, Map<String, java.util.Set<String>>> editsOf = new HashMap<>();
    for (Row r : scores) {
      String edit = r.getString(Tables.TTT_SCORES_SCHEMA.fieldIndex("edit_id"));
      String article = r.getString(Tables.TTT_SCORES_SCHEMA.fieldIndex("article_id"));
      String kind = kind(edit);
      double[] acc =
          sums.computeIfAbsent(article, a -> new HashMap<>())
              .computeIfAbsent(kind, x -> new double[2]);
      acc[0] += r.getDouble(Tables.TTT_SCORES_SCHEMA.fieldIndex("adapter_accuracy"));
      acc[1]++;
      double[] b = baseline.computeIfAbsent(article, a -> new double[2]);
      b[0] += r.getDouble(Tables.TTT_SCORES_SCHEMA.fieldIndex("baseline_accuracy"));
      b[1]++;
      editsOf
          .computeIfAbsent(article, a -> new HashMap<>())
          .computeIfAbsent(kind, x -> new java.util.TreeSet<>())
          .add(edit);
    }
    List<ArticleScores> out = new ArrayList<>();
    for (ArticleWork a : held) {
      Map<String, double[]> by = sums.getOrDefault(a.articleId(), Map.of());
      Map<String, java.util.Set<String>> edits = editsOf.getOrDefault(a.articleId(), Map.of());
      double[] b = baseline.get(a.articleId());
      if (b == null || !by.containsKey(PASSAGE)) {
        throw new IllegalStateException("no passage-only result for article " + a.articleId());
      }
      out.add(
          new ArticleScores(
              a.articleId(),
              a.title(),
              a.questions().size(),
              b[0] / b[1],
              mean(by.get(PASSAGE)),
              by.containsKey(BASE) ? mean(by.get(BASE)) : 0.0,
              policy ? (by.containsKey(POLICY) ? mean(by.get(POLICY)) : 0.0) : null,
              edits.getOrDefault(BASE, java.util.Set.of()).size(),
              edits.getOrDefault(POLICY, java.util.Set.of()).size()));
    }
    return out;
  }

  private static double mean(double[] sumCount) {
    return sumCount[0] / sumCount[1];
  }

  /** The four column means over articles (policy NaN without a policy model). */
  static double[] means(List<ArticleScores> rows) {
    double[] m = new double[4];
    for (ArticleScores r : rows) {
      m[0] += r.noTraining();
      m[1] += r.passageOnly();
      m[2] += r.baseEdits();
      m[3] += r.policyEdits() == null ? Double.NaN : r.policyEdits();
    }
    for (int i = 0; i < 4; i++) {
      m[i] /= rows.size();
    }
    return m;
  }

  /** SEAL's Table 2 rows with editforge's numbers (SEAL's Qwen2.5-7B values in the README). */
  static String table(double[] means, boolean policy, int articles, int repeats) {
    StringBuilder b = new StringBuilder();
    b.append(
        String.format(
            Locale.ROOT,
            "SEAL evaluation, %d held-out articles x %d repeats (no-context QA accuracy)%n",
            articles,
            repeats));
    String fmt = "%-38s %-14s %8s%n";
    b.append(String.format(Locale.ROOT, fmt, "Method (SEAL Table 2)", "column", "accuracy"));
    b.append(row(fmt, "Base model", "no_training", means[0]));
    b.append(row(fmt, "Train on Passage", "passage_only", means[1]));
    b.append(row(fmt, "Train on Passage + Synthetic (base)", "base_edits", means[2]));
    b.append(
        policy
            ? row(fmt, "Train on Passage + Synthetic (policy)", "policy_edits", means[3])
            : String.format(
                Locale.ROOT, fmt, "Train on Passage + Synthetic (policy)", "policy_edits", "-"));
    return b.toString().stripTrailing();
  }

  private static String row(String fmt, String name, String column, double v) {
    return String.format(Locale.ROOT, fmt, name, column, String.format(Locale.ROOT, "%.4f", v));
  }

  /**
   * Writes self-edits with the local decoder in one Spark task: SEAL's prompt ({@code
   * generate.self-edit.prompt-key}, implications by default) as raw text, k samples per article
   * from one stream seeded by (self-edit seed, article id), at most {@code max-new-tokens} each.
   */
  static final class LocalEditWriter implements EditWriter {
    private static final long serialVersionUID = 1L;

    @Override
    public List<List<String>> write(
        StageContext ctx, String model, List<ArticleWork> articles, SelfEditSettings s) {
      EvaluateSettings e = ctx.settings().evaluate();
      List<String> prompts = new ArrayList<>();
      List<Long> seeds = new ArrayList<>();
      for (ArticleWork a : articles) {
        prompts.add(s.prompts().render(s.promptKey(), a.title(), a.context()));
        seeds.add(Seeds.mix(s.seed(), Seeds.hash(a.articleId()), 0));
      }
      return SingleTask.run(
          ctx.spark(),
          e.gpus(),
          "evaluate: self-edits of " + model,
          new WriteTask(model, e, s, prompts, seeds, ctx.hadoopConf()),
          ctx::say);
    }
  }

  static final class WriteTask implements Function<Integer, List<List<String>>> {
    private static final long serialVersionUID = 1L;
    private final String model;
    private final EvaluateSettings settings;
    private final int maxNewTokens;
    private final double temperature;
    private final double topP;
    private final int k;
    private final List<String> prompts;
    private final List<Long> seeds;
    private final HadoopConf conf;

    WriteTask(
        String model,
        EvaluateSettings settings,
        SelfEditSettings s,
        List<String> prompts,
        List<Long> seeds,
        HadoopConf conf) {
      this.model = model;
      this.settings = settings;
      this.maxNewTokens = s.maxNewTokens();
      this.temperature = s.temperature();
      this.topP = s.topP();
      this.k = s.k();
      this.prompts = new ArrayList<>(prompts);
      this.seeds = new ArrayList<>(seeds);
      this.conf = conf;
    }

    @Override
    public List<List<String>> call(Integer ignored) {
      DjlOffline.ensure();
      Engine.getEngine("PyTorch");
      JniUtils.setGradMode(false);
      if (settings.threads() > 0) {
        JniUtils.setNumThreads(settings.threads());
      }
      java.nio.file.Path dir = ModelDirs.localize(model, conf.get(), LOG::info);
      ai.djl.Device device = SingleTask.device(settings.gpus());
      LlmSettings llm =
          LlmSettings.defaults().withMaxBatchSize(settings.batchSize()).withTruncatePrompt(true);
      try (LoadedDecoder dec =
              DecoderLoader.load(dir, device, DecoderLoader.dtype(settings.dtype(), device));
          LocalGenerator gen = new LocalGenerator(dec, llm, false)) {
        List<GenerationRequest> requests = new ArrayList<>();
        SamplingParams sampling =
            new SamplingParams(maxNewTokens, temperature, topP, 0, k, List.of(), List.of(), 0L);
        for (int i = 0; i < prompts.size(); i++) {
          requests.add(
              GenerationRequest.text("a" + i, prompts.get(i), sampling.withSeed(seeds.get(i))));
        }
        List<GenerationResult> results = gen.generate(requests);
        List<List<String>> out = new ArrayList<>();
        for (GenerationResult r : results) {
          List<String> texts = new ArrayList<>();
          if (r.ok()) {
            r.completions().forEach(c -> texts.add(c.text()));
          } else {
            LOG.warn("self-edit generation failed for {}: {}", r.requestId(), r.error());
          }
          out.add(texts);
        }
        return out;
      } catch (Exception ex) {
        throw new RuntimeException(
            "evaluate: self-edit generation with " + model + " failed: " + ex.getMessage(), ex);
      }
    }
  }
}
