package dev.editforge.continual;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.size;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigRenderOptions;
import dev.editforge.config.ContinualSettings;
import dev.editforge.config.EditforgeSettings;
import dev.editforge.io.Fingerprints;
import dev.editforge.io.Manifest;
import dev.editforge.io.RunDir;
import dev.editforge.io.Tables;
import dev.editforge.io.UnusableInputException;
import dev.editforge.io.WorkParts;
import dev.editforge.judge.Judge;
import dev.editforge.llm.ChatMessage;
import dev.editforge.llm.DjlOffline;
import dev.editforge.llm.LoadedDecoder;
import dev.editforge.llm.SamplingParams;
import dev.editforge.llm.remote.OpenAiClient;
import dev.editforge.lora.Seeds;
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
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * {@code editforge continual}: SEAL's continual self-edit experiment ({@code
 * continual_self_edits.py}), the forgetting matrix of sequential edits.
 *
 * <ol>
 *   <li>Each of {@code continual.sequences} sequences samples {@code continual.articles} articles
 *       with questions from the run's {@code articles} table ({@link ContinualSampling}).
 *   <li>In one Spark task ({@link SingleTask}; the steps of a sequence depend on each other), each
 *       sequence starts from {@code ttt.model}: step 0 measures the accuracy on every sampled
 *       article; step {@code i} has the current model write a self-edit of article {@code i},
 *       trains an adapter on it, merges it ({@link ContinualEngine}) and measures the accuracy on
 *       articles {@code 1..i}.
 *   <li>Every step is a {@link WorkParts} part {@code <run-dir>/_work/continual/<fingerprint>/
 *       seq-SSSS-step-IIII} ({@code step.json} and, from step 1, the merged {@code model/}), so a
 *       rerun after a kill continues each sequence after its last committed step from that step's
 *       model. A step's model is deleted once the next step is committed (the last one at once),
 *       unless {@code continual.keep-models}.
 *   <li>The {@code continual} table holds every matrix cell; {@code
 *       continual/_seal/continual_overall_results.json} is SEAL's file (mean and std over
 *       sequences, {@link ContinualMatrix}); the mean matrix is printed.
 * </ol>
 */
public final class ContinualJob implements PipelineStage {
  public static final String STAGE = "continual";
  public static final String SEAL_JSON = "_seal/continual_overall_results.json";
  static final String WORK = "continual";
  static final String STEP_JSON = "step.json";
  static final String MODEL = "model";
  private static final Logger LOG = LoggerFactory.getLogger(ContinualJob.class);

  /** Told on the executor after each step is committed (tests stop the run there). */
  @FunctionalInterface
  public interface StepListener extends Serializable {
    void committed(int sequence, int step);
  }

  private final StepListener listener;

  public ContinualJob() {
    this(null);
  }

  public ContinualJob(StepListener listener) {
    this.listener = listener;
  }

  @Override
  public String name() {
    return STAGE;
  }

  @Override
  public List<String> requires() {
    return List.of(Tables.ARTICLES);
  }

  @Override
  public StagePlan plan(StageContext ctx) {
    ContinualSettings s = ContinualSettings.from(ctx.settings());
    RunDir run = ctx.runDir();
    List<ContinualEngine.Article> articles = readArticles(ctx);
    if (s.articles() > articles.size()) {
      throw new UnusableInputException(
          "continual: --articles "
              + s.articles()
              + " is more than the "
              + articles.size()
              + " articles with questions in "
              + run.table(Tables.ARTICLES));
    }
    String model = ModelDirs.normalize(s.model());
    return StagePlan.of(
        StageOutput.of(
            Tables.CONTINUAL,
            configHash(ctx.settings()),
            List.of(Fingerprints.ofTable(run, Tables.ARTICLES), "model=" + model),
            out -> write(out, s, model, articles, listener)));
  }

  /**
   * What changes the matrix: continual (but keep-models and gpus), ttt (but commit-every), judge,
   * the self-edit prompt and sampling, the decoder runtime.
   */
  static String configHash(EditforgeSettings settings) {
    Config c =
        settings.section("continual").withoutPath("keep-models").withoutPath("gpus").atPath("c");
    c = c.withFallback(settings.section("ttt").withoutPath("commit-every").atPath("ttt"));
    c = c.withFallback(settings.section("judge").atPath("judge"));
    Config generate = settings.section("generate");
    c =
        c.withFallback(
            generate
                .withOnlyPath("self-edit")
                .withFallback(generate.withOnlyPath("chat"))
                .atPath("generate"));
    c = c.withFallback(settings.section("llm").atPath("llm"));
    return Fingerprints.configHash(c);
  }

  /** Articles with at least one question, sorted by id. */
  static List<ContinualEngine.Article> readArticles(StageContext ctx) {
    List<ContinualEngine.Article> out = new ArrayList<>();
    for (Row r :
        ctx.spark()
            .read()
            .parquet(ctx.runDir().tableUri(Tables.ARTICLES))
            .filter(size(col("questions")).gt(0))
            .orderBy("article_id")
            .collectAsList()) {
      List<ContinualEngine.Question> qs = new ArrayList<>();
      for (Row q : r.<Row>getList(r.fieldIndex("questions"))) {
        qs.add(
            new ContinualEngine.Question(
                q.getString(q.fieldIndex("question")), q.<String>getList(q.fieldIndex("answers"))));
      }
      out.add(
          new ContinualEngine.Article(
              r.getString(r.fieldIndex("article_id")),
              r.getString(r.fieldIndex("title")),
              r.getString(r.fieldIndex("context")),
              qs));
    }
    return out;
  }

  static String partName(int sequence, int step) {
    return String.format(Locale.ROOT, "seq-%04d-step-%04d", sequence, step);
  }

  private static void write(
      StageOutput.Staged out,
      ContinualSettings s,
      String model,
      List<ContinualEngine.Article> articles,
      StepListener listener)
      throws Exception {
    StageContext ctx = out.context();
    RunDir run = ctx.runDir();
    Manifest manifest = out.manifest();
    Map<String, ContinualEngine.Article> byId = new LinkedHashMap<>();
    for (ContinualEngine.Article a : articles) {
      byId.put(a.articleId(), a);
    }
    List<List<String>> sample =
        ContinualSampling.sample(
            new ArrayList<>(byId.keySet()), s.sequences(), s.articles(), s.seed());
    ArrayList<ArrayList<ContinualEngine.Article>> plan = new ArrayList<>();
    for (List<String> ids : sample) {
      plan.add(new ArrayList<>(ids.stream().map(byId::get).toList()));
    }

    WorkParts work = prepareWork(ctx, manifest.fingerprint());
    int resumed = 0;
    for (int q = 0; q < s.sequences(); q++) {
      resumed += committedSteps(work, q, s.articles());
    }
    if (resumed > 0) {
      ctx.say(
          String.format(
              Locale.ROOT,
              "continual: resuming: %d of %d steps already committed in %s",
              resumed,
              s.sequences() * (s.articles() + 1),
              work.dir()));
    }
    String config = ctx.settings().raw().root().render(ConfigRenderOptions.concise());
    Task task = new Task(config, s, model, plan, work.dir().toString(), ctx.hadoopConf(), listener);
    int computed =
        SingleTask.run(
            ctx.spark(),
            s.gpus(),
            "continual " + s.sequences() + " x " + s.articles() + " from " + model,
            task,
            ctx::say);

    // Assemble the matrices from the committed parts.
    List<Row> rows = new ArrayList<>();
    List<double[][]> matrices = new ArrayList<>();
    for (int q = 0; q < s.sequences(); q++) {
      List<ContinualMatrix.Step> steps = new ArrayList<>();
      List<ContinualEngine.Article> arts = plan.get(q);
      for (int i = 0; i <= s.articles(); i++) {
        Path part = new Path(work.dir(), partName(q, i));
        if (!work.isCommitted(part)) {
          throw new IllegalStateException(
              "continual: step " + i + " of sequence " + q + " missing");
        }
        JsonNode j = Json.MAPPER.readTree(run.readString(new Path(part, STEP_JSON)));
        int measured = ContinualMatrix.measuredColumns(i, s.articles());
        double[] acc = new double[measured];
        for (int c = 0; c < measured; c++) {
          acc[c] = j.get("accuracies").get(c).asDouble();
        }
        steps.add(new ContinualMatrix.Step(i, acc));
        String edited = i == 0 ? null : arts.get(i - 1).articleId();
        String edit = i == 0 ? null : j.get("self_edit").asText();
        for (int c = 0; c < s.articles(); c++) {
          rows.add(
              RowFactory.create(
                  q,
                  i,
                  c,
                  arts.get(c).articleId(),
                  edited,
                  edit,
                  c < measured ? acc[c] : 0.0,
                  c < measured,
                  arts.get(c).questions().size()));
        }
      }
      matrices.add(ContinualMatrix.of(s.articles(), steps));
    }
    ctx.spark()
        .createDataFrame(rows, Tables.CONTINUAL_SCHEMA)
        .coalesce(1)
        .sortWithinPartitions("sequence", "step", "column")
        .write()
        .parquet(out.uri());
    Map<String, Object> seal =
        ContinualMatrix.sealJson(matrices, run.tableUri(Tables.ARTICLES), model);
    run.writeString(new Path(out.path(), SEAL_JSON), Json.pretty(seal) + "\n");

    long cells = rows.size();
    manifest
        .count("input", articles.size())
        .count("accepted", articles.size())
        .count("rejected", 0)
        .count("duplicates", 0)
        .count("output", cells)
        .count("sequences", s.sequences())
        .count("articles_per_sequence", s.articles())
        .count("steps", s.sequences() * (s.articles() + 1))
        .count("resumed_steps", resumed)
        .count("computed_steps", computed);
    manifest.put("base_model", model);
    manifest.put("seed", s.seed());
    manifest.put("seal_json", new Path(run.table(Tables.CONTINUAL), SEAL_JSON).toString());
    manifest.put("sequence_articles", sample);
    if (s.keepModels()) {
      manifest.put("models", work.dir().toString());
    } else {
      out.afterCommit(work::deleteAll);
    }
    double[][] mean = ContinualMatrix.mean(matrices);
    double[][] std = ContinualMatrix.std(matrices);
    out.summary(
        String.format(
            Locale.ROOT,
            "continual: %d sequences x %d articles (%d steps computed, %d resumed); accuracy on the"
                + " first article %.3f before, %.3f after %d edits -> %s%n%s",
            s.sequences(),
            s.articles(),
            computed,
            resumed,
            mean[0][0],
            mean[s.articles()][0],
            s.articles(),
            new Path(run.table(Tables.CONTINUAL), SEAL_JSON),
            ContinualMatrix.render(mean, std)));
  }

  /** Steps 0..k of sequence {@code q} committed in a row (later ones are recomputed). */
  static int committedSteps(WorkParts work, int q, int n) {
    int k = 0;
    while (k <= n && work.isCommitted(new Path(work.dir(), partName(q, k)))) {
      k++;
    }
    return k;
  }

  /**
   * {@code <run-dir>/_work/continual/<fingerprint>}: keeps this fingerprint's committed steps
   * (unless --force), drops uncommitted ones and other fingerprints' work.
   */
  static WorkParts prepareWork(StageContext ctx, String fingerprint) throws IOException {
    RunDir run = ctx.runDir();
    FileSystem fs = run.fs();
    Path root = run.path("_work/" + WORK);
    if (fs.exists(root)) {
      for (FileStatus st : fs.listStatus(root)) {
        if (!st.getPath().getName().equals(fingerprint) || ctx.force()) {
          fs.delete(st.getPath(), true);
        }
      }
    }
    WorkParts work = WorkParts.of(run, WORK + "/" + fingerprint);
    work.discardUncommitted();
    return work;
  }

  /** The one continual task: runs every sequence's missing steps; returns how many it ran. */
  static final class Task implements Function<Integer, Integer> {
    private static final long serialVersionUID = 1L;
    private final String config;
    private final ContinualSettings settings;
    private final String model;
    private final ArrayList<ArrayList<ContinualEngine.Article>> plan;
    private final String workDir;
    private final HadoopConf conf;
    private final StepListener listener;

    Task(
        String config,
        ContinualSettings settings,
        String model,
        ArrayList<ArrayList<ContinualEngine.Article>> plan,
        String workDir,
        HadoopConf conf,
        StepListener listener) {
      this.config = config;
      this.settings = settings;
      this.model = model;
      this.plan = plan;
      this.workDir = workDir;
      this.conf = conf;
      this.listener = listener;
    }

    @Override
    public Integer call(Integer ignored) throws Exception {
      DjlOffline.ensure();
      EditforgeSettings es = EditforgeSettings.from(ConfigFactory.parseString(config).resolve());
      WorkParts work = new WorkParts(new Path(workDir), conf.get());
      FileSystem fs = work.dir().getFileSystem(conf.get());
      java.nio.file.Path base = ModelDirs.localize(model, conf.get(), LOG::info);
      OpenAiClient client = "llm".equals(es.judge().kind()) ? new OpenAiClient(es.remote()) : null;
      int computed = 0;
      try {
        Judge judge =
            es.judge()
                .create(
                    client == null
                        ? null
                        : prompt ->
                            client.chat(
                                es.judge().llmModel(),
                                List.of(ChatMessage.user(prompt)),
                                SamplingParams.greedy(64)));
        ContinualEngine engine = new ContinualEngine(es, SingleTask.device(settings.gpus()), judge);
        for (int q = 0; q < plan.size(); q++) {
          computed += runSequence(engine, work, fs, base, q, plan.get(q), es.ttt().seed());
        }
      } finally {
        if (client != null) {
          client.close();
        }
      }
      return computed;
    }

    private int runSequence(
        ContinualEngine engine,
        WorkParts work,
        FileSystem fs,
        java.nio.file.Path base,
        int q,
        List<ContinualEngine.Article> arts,
        long tttSeed)
        throws IOException {
      int n = arts.size();
      int done = committedSteps(work, q, n);
      if (done > n) {
        return 0;
      }
      int computed = 0;
      java.nio.file.Path scratch = Files.createTempDirectory("editforge-continual-");
      java.nio.file.Path current =
          done <= 1 ? base : localModel(fs, new Path(work.dir(), partName(q, done - 1)), scratch);
      LoadedDecoder decoder = engine.load(current);
      try {
        for (int i = done; i <= n; i++) {
          java.nio.file.Path stepDir = scratch.resolve("step-" + i);
          Files.createDirectories(stepDir);
          Map<String, Object> json = new LinkedHashMap<>();
          json.put("sequence", q);
          json.put("step", i);
          if (i == 0) {
            json.put("accuracies", values(engine.accuracies(decoder, arts)));
          } else {
            ContinualEngine.Article a = arts.get(i - 1);
            long seed = Seeds.mix(settings.seed(), q, i, tttSeed);
            String edit = engine.selfEdit(decoder, a, seed);
            engine.trainAndMerge(decoder, a, edit, seed, stepDir.resolve(MODEL));
            // the merged model writes the next edit: switch before measuring
            LoadedDecoder merged = engine.load(stepDir.resolve(MODEL));
            decoder.close();
            decoder = merged;
            json.put("edited_article_id", a.articleId());
            json.put("self_edit", edit);
            json.put("accuracies", values(engine.accuracies(decoder, arts.subList(0, i))));
          }
          Files.writeString(stepDir.resolve(STEP_JSON), Json.pretty(json));
          Path part = work.commitLocal(stepDir, partName(q, i), "sequence " + q + " step " + i);
          computed++;
          LOG.info("continual: committed sequence {} step {} of {}", q, i, n);
          if (i > 1 && !settings.keepModels()) {
            // once step i is committed, step i-1's model is no longer needed to resume
            fs.delete(new Path(new Path(work.dir(), partName(q, i - 1)), MODEL), true);
          }
          if (i == n && !settings.keepModels()) {
            fs.delete(new Path(part, MODEL), true);
          }
          // the local copy of the previous step (whose model the decoder no longer reads)
          deleteTree(scratch.resolve("step-" + (i - 1)));
          if (listener != null) {
            listener.committed(q, i);
          }
        }
      } finally {
        decoder.close();
        deleteTree(scratch);
      }
      return computed;
    }

    /** A committed step's model as a local directory (copied when the run dir is remote). */
    private static java.nio.file.Path localModel(
        FileSystem fs, Path part, java.nio.file.Path scratch) throws IOException {
      Path m = new Path(part, MODEL);
      if (fs instanceof LocalFileSystem || fs instanceof RawLocalFileSystem) {
        return java.nio.file.Path.of(fs.makeQualified(m).toUri());
      }
      java.nio.file.Path local = scratch.resolve("resume-" + part.getName());
      fs.copyToLocalFile(false, m, new Path(local.toUri()), true);
      return local;
    }

    private static List<Double> values(List<ContinualEngine.Accuracy> accs) {
      return accs.stream().map(ContinualEngine.Accuracy::value).toList();
    }
  }

  static void deleteTree(java.nio.file.Path dir) {
    if (!Files.exists(dir)) {
      return;
    }
    try (var walk = Files.walk(dir)) {
      for (java.nio.file.Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }
}
