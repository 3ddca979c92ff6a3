package dev.editforge.retrieve;

import static org.apache.spark.sql.types.DataTypes.BooleanType;
import static org.apache.spark.sql.types.DataTypes.DoubleType;
import static org.apache.spark.sql.types.DataTypes.StringType;
import static org.apache.spark.sql.types.DataTypes.createArrayType;
import static org.apache.spark.sql.types.DataTypes.createStructField;
import static org.apache.spark.sql.types.DataTypes.createStructType;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import com.fasterxml.jackson.databind.JsonNode;
import dev.editforge.config.ConfigReader;
import dev.editforge.config.RetrieveSettings;
import dev.editforge.config.SettingsException;
import dev.editforge.io.Fingerprints;
import dev.editforge.io.Rows;
import dev.editforge.io.RunDir;
import dev.editforge.io.Tables;
import dev.editforge.io.UnusableInputException;
import dev.editforge.llm.DecoderLoader;
import dev.editforge.llm.DjlOffline;
import dev.editforge.llm.LlmSettings;
import dev.editforge.llm.LoadedDecoder;
import dev.editforge.llm.LocalGenerator;
import dev.editforge.llm.LogprobGenerator;
import dev.editforge.llm.remote.OpenAiGenerator;
import dev.editforge.llm.remote.RemoteSettings;
import dev.editforge.lucene.IndexManifest;
import dev.editforge.selfrag.CritiqueScore;
import dev.editforge.selfrag.LongFormSearch;
import dev.editforge.selfrag.ReflectionTokens;
import dev.editforge.selfrag.RetrievalMode;
import dev.editforge.selfrag.SelfRagPrompt;
import dev.editforge.selfrag.SelfRagQuestion;
import dev.editforge.selfrag.ShortFormAnswerer;
import dev.editforge.spark.HadoopConf;
import dev.editforge.spark.ModelDirs;
import dev.editforge.spark.SingleTask;
import dev.editforge.spark.StageContext;
import dev.editforge.text.Json;
import java.io.IOException;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.StructType;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The driver side shared by {@code selfrag-answer} and {@code evaluate --protocol selfrag}:
 * checking the settings, question file, index and model before any work; retrieving each question's
 * top {@code ndocs} passages from the run's index (on executors, as {@code retrieve} does); and
 * answering with {@link ShortFormAnswerer} or {@link LongFormSearch}, the local model in one Spark
 * task (GPU-scheduled with {@code gpus > 0}), a remote server from the driver.
 */
public final class SelfRagRun {
  private static final Logger LOG = LoggerFactory.getLogger(SelfRagRun.class);

  private static final StructType CANDIDATE =
      createStructType(
          List.of(
              createStructField("passage_id", StringType, true),
              createStructField("raw", StringType, true),
              createStructField("seq", DoubleType, false),
              createStructField("relevance", DoubleType, false),
              createStructField("groundness", DoubleType, false),
              createStructField("utility", DoubleType, false),
              createStructField("total", DoubleType, false)));

  private static final StructType SEGMENT =
      createStructType(
          List.of(
              createStructField("text", StringType, false),
              createStructField("passage_id", StringType, true),
              createStructField("score", DoubleType, false)));

  /** One row per (question, mode): the tables {@code selfrag_answers} and evaluation_selfrag. */
  public static final StructType ROWS =
      createStructType(
          List.of(
              createStructField("query_id", StringType, false),
              createStructField("question", StringType, false),
              createStructField("answers", createArrayType(StringType, false), true),
              createStructField("mode", StringType, false),
              createStructField("form", StringType, false),
              createStructField("retrieved", BooleanType, false),
              createStructField("retrieve_ratio", DoubleType, true),
              createStructField("passage_ids", createArrayType(StringType, false), false),
              createStructField("chosen_passage_id", StringType, true),
              createStructField("answer", StringType, false),
              createStructField("match", BooleanType, true),
              createStructField("candidates", createArrayType(CANDIDATE, false), false),
              createStructField("segments", createArrayType(SEGMENT, false), false),
              createStructField("error", StringType, true)));

  private SelfRagRun() {}

  public static SelfRagSettings settings(StageContext ctx) {
    return SelfRagSettings.from(
        new ConfigReader(ctx.settings().section("selfrag"), "editforge.selfrag"));
  }

  /** The model reference: {@code selfrag.model}, else (openai) {@code remote.model}. */
  public static String model(StageContext ctx, SelfRagSettings s) {
    if (!s.model().isEmpty()) {
      return s.model();
    }
    if (!s.local() && ctx.settings().remote().model() != null) {
      return ctx.settings().remote().model();
    }
    throw new SettingsException(
        "selfrag needs a model: give --model DIR|HUB_ID (or set editforge.selfrag.model)");
  }

  /**
   * Everything checked before any work, so bad input exits 2 naming the problem: the question file
   * (every record has a {@code question}, and {@code answers} when {@code needAnswers}), the index
   * (present and holding at least {@code ndocs} passages) and a local model's reflection tokens.
   * Returns the fingerprint inputs.
   */
  public static List<String> check(
      StageContext ctx, String command, SelfRagSettings s, boolean needAnswers) throws IOException {
    if (s.questions().isEmpty()) {
      throw new SettingsException(
          command
              + " needs questions: give --questions FILE (JSON/JSONL with question and answers;"
              + " or set editforge.selfrag.questions)");
    }
    RunDir run = ctx.runDir();
    Path file = RunDir.qualify(s.questions());
    FileSystem fs = file.getFileSystem(ctx.hadoopConf().get());
    if (!fs.isFile(file)) {
      throw new UnusableInputException(
          command + ": question file " + s.questions() + " does not exist");
    }
    QueryReader.Result read;
    try (Reader r = new InputStreamReader(fs.open(file), StandardCharsets.UTF_8)) {
      read = QueryReader.read(r);
    }
    if (!read.rejects().isEmpty()) {
      QueryReader.Reject first = read.rejects().get(0);
      throw new UnusableInputException(
          command
              + ": question file "
              + s.questions()
              + " line "
              + first.line()
              + ": "
              + first.reason()
              + " (every record needs a non-empty \"question\"; "
              + read.rejects().size()
              + " records unusable)");
    }
    if (read.queries().isEmpty()) {
      throw new UnusableInputException(
          command + ": question file " + s.questions() + " has no questions");
    }
    if (needAnswers) {
      for (QueryReader.Query q : read.queries()) {
        if (q.answers() == null || q.answers().isEmpty()) {
          throw new UnusableInputException(
              command
                  + ": question file "
                  + s.questions()
                  + " line "
                  + q.line()
                  + " has no \"answers\": match accuracy needs a list of gold answers per question");
        }
      }
    }
    // Verified while planning (shards present, checksums, encoder), as retrieve does.
    RetrievalSetup.index(ctx, ctx.settings().retrieve(), ctx.settings().embed());
    IndexManifest m =
        Json.MAPPER.readValue(
            run.readString(new Path(run.table(Tables.INDEX), IndexManifest.FILE_NAME)),
            IndexManifest.class);
    if (s.ndocs() > m.docs()) {
      throw new SettingsException(
          "editforge.selfrag.ndocs",
          s.ndocs(),
          "at most "
              + m.docs()
              + ": the index of "
              + run.root()
              + " holds "
              + m.docs()
              + " passages");
    }
    String model = model(ctx, s);
    if (s.local()) {
      checkReflectionTokens(ModelDirs.localize(model, ctx.hadoopConf().get(), LOG::info), model);
    }
    return List.of(
        Fingerprints.ofFile(fs, file),
        Fingerprints.ofTable(run, Tables.INDEX),
        s.local() ? Fingerprints.ofModel(model) : "remote:" + model,
        Fingerprints.configHash(ctx.settings().section("retrieve")),
        Fingerprints.configHash(ctx.settings().section("embed")));
  }

  /**
   * Refuses a model whose tokenizer lacks any of the 15 reflection tokens: it would never emit
   * them, every critique would read -100 and the answers would be noise.
   */
  static void checkReflectionTokens(java.nio.file.Path dir, String ref) {
    java.nio.file.Path tok = dir.resolve("tokenizer.json");
    if (!Files.isRegularFile(tok)) {
      throw new UnusableInputException(
          "selfrag: model " + ref + " has no tokenizer.json (" + tok + ")");
    }
    JsonNode json;
    try {
      json = Json.MAPPER.readTree(tok.toFile());
    } catch (IOException e) {
      throw new UnusableInputException("selfrag: cannot read " + tok + ": " + e.getMessage());
    }
    java.util.Set<String> added = new java.util.HashSet<>();
    for (JsonNode t : json.path("added_tokens")) {
      added.add(t.path("content").asText());
    }
    List<String> missing = new ArrayList<>();
    for (String t : ReflectionTokens.ALL) {
      if (!added.contains(t)) {
        missing.add(t);
      }
    }
    if (!missing.isEmpty()) {
      throw new UnusableInputException(
          "selfrag: model "
              + ref
              + " lacks "
              + missing.size()
              + " of Self-RAG's 15 reflection tokens (e.g. "
              + missing.get(0)
              + "); train it with the tokens added first (editforge finetune with"
              + " finetune.added-tokens = selfrag on Self-RAG generator data)");
    }
  }

  /** The questions of the file (the first max-questions), each with its top ndocs passages. */
  public record Retrieved(List<SelfRagQuestion> questions, Map<String, List<String>> answers) {}

  public static Retrieved retrieve(StageContext ctx, SelfRagSettings s) {
    RetrieveSettings rs = ctx.settings().retrieve().withK(s.ndocs());
    RetrievalSetup.Queries q = RetrievalSetup.load(ctx, s.questions());
    if (s.maxQuestions() > 0) {
      Dataset<Row> first = q.rows().filter(functions.col("ordinal").lt(s.maxQuestions()));
      q =
          new RetrievalSetup.Queries(
              first,
              Math.min(q.count(), s.maxQuestions()),
              q.rejects(),
              q.sourceFile(),
              q.fingerprint());
    }
    Map<Long, List<String>> answersByOrdinal = new HashMap<>();
    for (Row r : q.rows().select("ordinal", "answers").collectAsList()) {
      answersByOrdinal.put(r.getLong(0), r.isNullAt(1) ? null : r.getList(1));
    }
    RetrieveFunctions.IndexLocation index = RetrievalSetup.index(ctx, rs, ctx.settings().embed());
    ctx.spark().sparkContext().setJobDescription("selfrag: retrieve " + q.count() + " questions");
    List<Row> outcomes =
        RetrievalSetup.retrieve(ctx, q, index, rs, ctx.settings().embed())
            .select("ordinal", "query_id", "query", "ctxs")
            .orderBy("ordinal")
            .collectAsList();
    List<SelfRagQuestion> questions = new ArrayList<>();
    Map<String, List<String>> answers = new HashMap<>();
    for (Row r : outcomes) {
      List<SelfRagQuestion.Passage> passages = new ArrayList<>();
      for (Row c : r.<Row>getList(3)) {
        String source = c.getAs("source_id");
        passages.add(
            new SelfRagQuestion.Passage(
                source != null ? source : c.getAs("passage_id"),
                c.getAs("title"),
                c.getAs("text")));
      }
      String id = r.getString(1);
      questions.add(new SelfRagQuestion(id, r.getString(2), passages));
      List<String> a = answersByOrdinal.get(r.getLong(0));
      answers.put(id, a == null ? null : new ArrayList<>(a));
    }
    return new Retrieved(questions, answers);
  }

  /** Answers every question in every mode; rows follow {@link #ROWS}, mode-major. */
  public static List<Row> answer(
      StageContext ctx, SelfRagSettings s, Retrieved retrieved, List<RetrievalMode> modes) {
    String model = model(ctx, s);
    AnswerTask task =
        new AnswerTask(
            s, model, retrieved.questions(), retrieved.answers(), modes, ctx.hadoopConf());
    if (!s.local()) {
      RemoteSettings remote = ctx.settings().remote();
      try (OpenAiGenerator gen =
          new OpenAiGenerator(new dev.editforge.llm.remote.OpenAiClient(remote), model)) {
        try {
          return task.rows(gen);
        } finally {
          gen.client().close();
        }
      }
    }
    return SingleTask.run(
        ctx.spark(),
        s.gpus(),
        "selfrag: answer "
            + retrieved.questions().size()
            + " questions x "
            + modes.size()
            + " modes",
        task,
        LOG::info);
  }

  /** The answering task: the model, every mode, rows back to the driver. */
  static final class AnswerTask implements Function<Integer, List<Row>> {
    private static final long serialVersionUID = 1L;
    private final SelfRagSettings settings;
    private final String model;
    private final ArrayList<SelfRagQuestion> questions;
    private final HashMap<String, List<String>> answers;
    private final ArrayList<RetrievalMode> modes;
    private final HadoopConf conf;

    AnswerTask(
        SelfRagSettings settings,
        String model,
        List<SelfRagQuestion> questions,
        Map<String, List<String>> answers,
        List<RetrievalMode> modes,
        HadoopConf conf) {
      this.settings = settings;
      this.model = model;
      this.questions = new ArrayList<>(questions);
      this.answers = new HashMap<>(answers);
      this.modes = new ArrayList<>(modes);
      this.conf = conf;
    }

    @Override
    public List<Row> call(Integer ignored) {
      DjlOffline.ensure();
      Engine.getEngine("PyTorch");
      JniUtils.setGradMode(false); // per thread in libtorch: no autograd graph while generating
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
        return new ArrayList<>(rows(gen));
      }
    }

    List<Row> rows(LogprobGenerator gen) {
      List<Row> out = new ArrayList<>();
      for (RetrievalMode mode : modes) {
        if (settings.longForm()) {
          LongFormSearch search = new LongFormSearch(gen, settings.options());
          for (SelfRagQuestion q : questions) {
            out.add(longRow(q, answers.get(q.id()), search.answer(q, mode), settings.ndocs()));
          }
        } else {
          List<ShortFormAnswerer.Answer> got =
              new ShortFormAnswerer(gen, settings.options()).answer(questions, mode);
          for (int i = 0; i < questions.size(); i++) {
            SelfRagQuestion q = questions.get(i);
            out.add(shortRow(q, answers.get(q.id()), got.get(i), settings.ndocs()));
          }
        }
      }
      return out;
    }
  }

  private static List<String> passageIds(SelfRagQuestion q, int ndocs) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < Math.min(ndocs, q.passages().size()); i++) {
      ids.add(q.passages().get(i).id());
    }
    return ids;
  }

  static Row shortRow(
      SelfRagQuestion q, List<String> answers, ShortFormAnswerer.Answer a, int ndocs) {
    List<Row> cands = new ArrayList<>();
    for (ShortFormAnswerer.Candidate c : a.candidates()) {
      CritiqueScore sc = c.score();
      cands.add(
          RowFactory.create(
              c.passageId(),
              c.raw(),
              sc.seq(),
              sc.relevance(),
              sc.groundness(),
              sc.utility(),
              sc.total()));
    }
    return withSchema(
        q.id(),
        q.instruction(),
        answers == null ? null : Rows.seq(answers),
        a.mode().key(),
        "short",
        a.retrieved(),
        Double.isNaN(a.retrieveRatio()) ? null : a.retrieveRatio(),
        Rows.seq(a.retrieved() ? passageIds(q, ndocs) : List.of()),
        a.chosen() >= 0 ? a.candidates().get(a.chosen()).passageId() : null,
        a.answer(),
        answers == null ? null : SelfRagPrompt.match(a.answer(), answers),
        Rows.seq(cands),
        Rows.seq(List.of()),
        a.error());
  }

  private static Row withSchema(Object... values) {
    return new org.apache.spark.sql.catalyst.expressions.GenericRowWithSchema(values, ROWS);
  }

  static Row longRow(
      SelfRagQuestion q, List<String> answers, LongFormSearch.LongAnswer a, int ndocs) {
    List<Row> segs = new ArrayList<>();
    for (LongFormSearch.Segment s : a.segments()) {
      segs.add(RowFactory.create(s.text(), s.passageId(), s.score()));
    }
    return withSchema(
        q.id(),
        q.instruction(),
        answers == null ? null : Rows.seq(answers),
        a.mode().key(),
        "long",
        a.retrieved(),
        null,
        Rows.seq(a.retrieved() ? passageIds(q, ndocs) : List.of()),
        a.segments().isEmpty() ? null : a.segments().get(0).passageId(),
        a.answer(),
        answers == null ? null : SelfRagPrompt.match(a.answer(), answers),
        Rows.seq(List.of()),
        Rows.seq(segs),
        a.error());
  }
}
