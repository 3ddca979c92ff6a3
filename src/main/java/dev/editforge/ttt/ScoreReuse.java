package dev.editforge.ttt;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.types.DataTypes.StringType;
import static org.apache.spark.sql.types.DataTypes.createArrayType;
import static org.apache.spark.sql.types.DataTypes.createStructField;
import static org.apache.spark.sql.types.DataTypes.createStructType;

import com.typesafe.config.ConfigFactory;
import dev.editforge.config.EditforgeSettings;
import dev.editforge.io.Manifest;
import dev.editforge.io.Rows;
import dev.editforge.io.RunDir;
import dev.editforge.io.Tables;
import dev.editforge.io.WorkParts;
import dev.editforge.judge.Judge;
import dev.editforge.text.AnswerPrompt;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Column;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.SparkSession;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * Row-level reuse for score (issue 18): every {@code ttt_scores} row carries the {@link ScoreKeys}
 * it was computed under — in the work parts as extra columns, in the committed table in a {@code
 * _keys/} sidecar (hidden from readers of the table, like {@code _rejects/}), so the table's schema
 * stays the data contract. A rerun takes an edit's rows from the previous table or a committed part
 * when its edit key is unchanged and every repeat is there; rows whose verdict key changed (another
 * judge, other gold answers) are re-judged from their stored answers ({@link Rejudge}) without
 * training; only the remaining edits are trained, with the article's stored baseline answers when
 * its baseline key is unchanged.
 */
final class ScoreReuse {
  private ScoreReuse() {}

  /** The sidecar of the committed table: edit_id, repeat and the three keys of every row. */
  static final String KEYS = "_keys";

  /** The source of the committed table's rows; a part's rows carry the part's path. */
  static final String SOURCE_TABLE = "table";

  static final List<String> KEY_COLUMNS = List.of("edit_key", "baseline_key", "verdict_key");

  /** {@code ttt_scores} plus the keys: what work parts hold. */
  static final StructType KEYED_SCHEMA = keyed();

  static final StructType KEYS_SCHEMA =
      createStructType(
          List.of(
              createStructField("edit_id", StringType, false),
              createStructField("repeat", org.apache.spark.sql.types.DataTypes.IntegerType, false),
              createStructField("edit_key", StringType, false),
              createStructField("baseline_key", StringType, false),
              createStructField("verdict_key", StringType, false)));

  /** What a re-judge needs of an article: its title, question texts and gold answers. */
  static final StructType ARTICLE_SCHEMA =
      createStructType(
          List.of(
              createStructField("i_article_id", StringType, false),
              createStructField("i_title", StringType, false),
              createStructField("i_questions", createArrayType(StringType, false), false),
              createStructField(
                  "i_golds", createArrayType(createArrayType(StringType, false), false), false)));

  private static StructType keyed() {
    List<StructField> f = new ArrayList<>(List.of(Tables.TTT_SCORES_SCHEMA.fields()));
    for (String k : KEY_COLUMNS) {
      f.add(createStructField(k, StringType, false));
    }
    return createStructType(f);
  }

  static Column[] keyedColumns() {
    return java.util.Arrays.stream(KEYED_SCHEMA.fieldNames())
        .map(org.apache.spark.sql.functions::col)
        .toArray(Column[]::new);
  }

  /** One article's edits to train, with the keys its rows will carry. */
  record KeyedWork(
      ArticleWork work, Map<String, String> editKeys, String baselineKey, String verdictKey)
      implements Serializable {
    KeyedWork {
      editKeys = new HashMap<>(editKeys);
    }
  }

  /** Scores one article through {@link ScoreTask} and appends the keys to its rows. */
  static final class KeyedTask implements FlatMapFunction<KeyedWork, Row> {
    private static final long serialVersionUID = 1L;
    private final ScoreTask task;

    KeyedTask(ScoreTask task) {
      this.task = task;
    }

    @Override
    public Iterator<Row> call(KeyedWork kw) {
      List<Row> out = new ArrayList<>();
      Iterator<Row> rows = task.call(kw.work());
      while (rows.hasNext()) {
        Row r = rows.next();
        out.add(withKeys(r, kw.editKeys().get(r.getString(0)), kw.baselineKey(), kw.verdictKey()));
      }
      return out.iterator();
    }
  }

  static Row withKeys(Row scores, String editKey, String baselineKey, String verdictKey) {
    int n = Tables.TTT_SCORES_SCHEMA.size();
    Object[] v = new Object[n + 3];
    for (int i = 0; i < n; i++) {
      v[i] = scores.get(i);
    }
    v[n] = editKey;
    v[n + 1] = baselineKey;
    v[n + 2] = verdictKey;
    return RowFactory.create(v);
  }

  /**
   * Earlier keyed rows with their {@code source}: the committed table's (when it was not a failed
   * write and has its {@value #KEYS} sidecar) and every committed work part's.
   */
  static Dataset<Row> previous(SparkSession spark, RunDir run, WorkParts work) {
    List<Dataset<Row>> all = new ArrayList<>();
    Optional<Manifest> m = run.manifest(Tables.TTT_SCORES);
    Path keys = new Path(run.table(Tables.TTT_SCORES), KEYS);
    if (m.isPresent() && !Manifest.FAILED.equals(m.get().status()) && run.exists(keys)) {
      Dataset<Row> rows =
          spark.read().schema(Tables.TTT_SCORES_SCHEMA).parquet(run.tableUri(Tables.TTT_SCORES));
      Dataset<Row> k =
          spark
              .read()
              .schema(KEYS_SCHEMA)
              .parquet(keys.toString())
              .select(
                  col("edit_id").as("k_edit_id"),
                  col("repeat").as("k_repeat"),
                  col("edit_key"),
                  col("baseline_key"),
                  col("verdict_key"));
      all.add(
          rows.join(
                  k,
                  col("edit_id")
                      .equalTo(col("k_edit_id"))
                      .and(col("repeat").equalTo(col("k_repeat"))))
              .select(keyedColumns())
              .withColumn("source", lit(SOURCE_TABLE)));
    }
    for (Path p : work.committed(ScoreJob.PART_PREFIX)) {
      all.add(
          spark
              .read()
              .schema(KEYED_SCHEMA)
              .parquet(p.toString())
              // a part written before keys existed reads with null keys: never reused
              .filter(col("edit_key").isNotNull())
              .withColumn("source", lit(p.toString())));
    }
    Dataset<Row> out = spark.createDataFrame(List.of(), KEYED_SCHEMA).withColumn("source", lit(""));
    for (Dataset<Row> d : all) {
      out = out.unionByName(d);
    }
    return out;
  }

  /** One earlier row as planning needs it: where it is and what it was computed under. */
  record Prior(
      String editId,
      String articleId,
      int repeat,
      String editKey,
      String baselineKey,
      String verdictKey,
      String source,
      List<String> baselineAnswers) {}

  /** The earlier rows' keys (baseline answers only on repeat 0): small, one row per result. */
  static List<Prior> collect(Dataset<Row> previous) {
    List<Prior> out = new ArrayList<>();
    for (Row r :
        previous
            .select(
                col("edit_id"),
                col("article_id"),
                col("repeat"),
                col("edit_key"),
                col("baseline_key"),
                col("verdict_key"),
                col("source"),
                org.apache
                    .spark
                    .sql
                    .functions
                    .when(col("repeat").equalTo(0), col("questions.baseline_answer"))
                    .as("baseline_answers"))
            .collectAsList()) {
      out.add(
          new Prior(
              r.getString(0),
              r.getString(1),
              r.getInt(2),
              r.getString(3),
              r.getString(4),
              r.getString(5),
              r.getString(6),
              r.isNullAt(7) ? null : new ArrayList<>(r.<String>getList(7))));
    }
    return out;
  }

  /** An accepted edit as this run wants it. */
  record Wanted(String articleId, String editKey, String verdictKey) {}

  /**
   * What a rerun keeps. {@code chosen}: per reused (edit, repeat), the earlier row to take; {@code
   * baselines}: stored baseline answers by article, for articles whose baseline key is unchanged;
   * {@code removed}: rows of the committed table whose edit is gone.
   */
  record Plan(
      List<Prior> chosen,
      Set<String> reusedEdits,
      Set<String> resumedArticles,
      Map<String, List<String>> baselines,
      long removed) {
    long rejudged(Map<String, Wanted> wanted) {
      return chosen.stream()
          .filter(p -> !p.verdictKey().equals(wanted.get(p.editId()).verdictKey()))
          .count();
    }
  }

  /**
   * Plans reuse on the driver: an edit is reused when earlier rows with its article and edit key
   * hold every repeat {@code 0..evalTimes-1}; of several rows for one repeat the one already judged
   * as this run would wins, then the committed table's, then by source (stable).
   */
  static Plan plan(
      List<Prior> prior,
      Map<String, Wanted> wanted,
      int evalTimes,
      Map<String, String> baselineKeys) {
    Map<String, TreeMap<Integer, Prior>> byEdit = new TreeMap<>();
    Map<String, List<String>> baselines = new TreeMap<>();
    long removed = 0;
    for (Prior p : prior) {
      Wanted w = wanted.get(p.editId());
      if (w == null) {
        removed += SOURCE_TABLE.equals(p.source()) ? 1 : 0;
      } else if (w.articleId().equals(p.articleId()) && w.editKey().equals(p.editKey())) {
        byEdit
            .computeIfAbsent(p.editId(), k -> new TreeMap<>())
            .merge(p.repeat(), p, (a, b) -> better(a, b, w) ? a : b);
      }
      if (p.baselineAnswers() != null && p.baselineKey().equals(baselineKeys.get(p.articleId()))) {
        baselines.putIfAbsent(p.articleId(), p.baselineAnswers());
      }
    }
    List<Prior> chosen = new ArrayList<>();
    Set<String> reused = new HashSet<>();
    Set<String> fromParts = new HashSet<>();
    for (Map.Entry<String, TreeMap<Integer, Prior>> e : byEdit.entrySet()) {
      TreeMap<Integer, Prior> repeats = e.getValue();
      if (repeats.size() == evalTimes
          && repeats.firstKey() == 0
          && repeats.lastKey() == evalTimes - 1) {
        reused.add(e.getKey());
        for (Prior p : repeats.values()) {
          chosen.add(p);
          if (!SOURCE_TABLE.equals(p.source())) {
            fromParts.add(p.articleId());
          }
        }
      }
    }
    return new Plan(chosen, reused, fromParts, baselines, removed);
  }

  private static boolean better(Prior a, Prior b, Wanted w) {
    boolean aJudged = a.verdictKey().equals(w.verdictKey());
    boolean bJudged = b.verdictKey().equals(w.verdictKey());
    if (aJudged != bJudged) {
      return aJudged;
    }
    boolean aTable = SOURCE_TABLE.equals(a.source());
    boolean bTable = SOURCE_TABLE.equals(b.source());
    if (aTable != bTable) {
      return aTable;
    }
    return a.source().compareTo(b.source()) <= 0;
  }

  static final StructType CHOSEN_SCHEMA =
      createStructType(
          List.of(
              createStructField("c_edit_id", StringType, false),
              createStructField(
                  "c_repeat", org.apache.spark.sql.types.DataTypes.IntegerType, false),
              createStructField("c_source", StringType, false),
              createStructField("c_verdict_key", StringType, false),
              createStructField(
                  "c_rejudge", org.apache.spark.sql.types.DataTypes.BooleanType, false)));

  /** The chosen rows, to join the earlier rows with: where each is and the verdict key it needs. */
  static List<Row> chosenRows(Plan plan, Map<String, Wanted> wanted) {
    List<Row> out = new ArrayList<>();
    for (Prior p : plan.chosen()) {
      String verdict = wanted.get(p.editId()).verdictKey();
      out.add(
          RowFactory.create(
              p.editId(), p.repeat(), p.source(), verdict, !verdict.equals(p.verdictKey())));
    }
    return out;
  }

  /**
   * A stored result graded again by {@code judge} against {@code article}'s current gold answers:
   * the answers stay, verdicts, gains and accuracies follow the judge. {@code baselineVerdicts},
   * when not null, are the article's baseline verdicts already judged (SEAL judges the baseline
   * once per article unless {@code ttt.rejudge-baseline}).
   */
  static TttResult rejudge(
      TttResult stored, TttArticle article, Judge judge, List<Boolean> baselineVerdicts) {
    int n = article.questions().size();
    if (stored.questions().size() != n) {
      throw new IllegalStateException(
          "edit "
              + stored.editId()
              + " has "
              + stored.questions().size()
              + " stored answers but article "
              + article.articleId()
              + " has "
              + n
              + " questions");
    }
    List<Boolean> base = baselineVerdicts;
    if (base == null) {
      base = judge.correctAll(items(article, stored, true));
    }
    List<Boolean> adapted = judge.correctAll(items(article, stored, false));
    List<QuestionResult> qs = new ArrayList<>(n);
    List<Integer> gains = new ArrayList<>(n);
    int baseRight = 0;
    int right = 0;
    for (int i = 0; i < n; i++) {
      TttQuestion q = article.questions().get(i);
      QuestionResult s = stored.questions().get(i);
      QuestionResult r =
          new QuestionResult(
              q.question(),
              String.join(" | ", q.answers()),
              s.baselineAnswer(),
              s.adapterAnswer(),
              base.get(i),
              adapted.get(i));
      qs.add(r);
      gains.add(r.gain());
      baseRight += r.baselineCorrect() ? 1 : 0;
      right += r.adapterCorrect() ? 1 : 0;
    }
    double baseAcc = n == 0 ? 0.0 : (double) baseRight / n;
    double acc = n == 0 ? 0.0 : (double) right / n;
    return new TttResult(
        stored.editId(),
        stored.articleId(),
        stored.repeat(),
        baseAcc,
        acc,
        acc - baseAcc,
        gains,
        qs,
        stored.trainSequences(),
        stored.trainTokens(),
        stored.seconds());
  }

  /** The judge items of one stored result: its baseline or its adapter answers. */
  static List<Judge.Item> items(TttArticle article, TttResult stored, boolean baseline) {
    List<Judge.Item> out = new ArrayList<>();
    for (int i = 0; i < article.questions().size(); i++) {
      TttQuestion q = article.questions().get(i);
      QuestionResult s = stored.questions().get(i);
      out.add(
          new Judge.Item(
              AnswerPrompt.questionField(article.title(), q.question()),
              q.answers(),
              baseline ? s.baselineAnswer() : s.adapterAnswer()));
    }
    return out;
  }

  /** A {@code ttt_scores} row as a result (the lora struct is not part of it). */
  static TttResult result(Row r) {
    List<QuestionResult> qs = new ArrayList<>();
    for (Row q : r.<Row>getList(7)) {
      qs.add(
          new QuestionResult(
              q.getString(0),
              q.getString(1),
              q.getString(2),
              q.getString(3),
              q.getBoolean(4),
              q.getBoolean(5)));
    }
    return new TttResult(
        r.getString(0),
        r.getString(1),
        r.getInt(2),
        r.getDouble(3),
        r.getDouble(4),
        r.getDouble(5),
        r.<Integer>getList(6),
        qs,
        r.getInt(8),
        r.getLong(9),
        r.getDouble(11));
  }

  /**
   * Re-judges stored rows on executors: input rows are {@link #KEYED_SCHEMA}'s columns followed by
   * the current verdict key and {@link #ARTICLE_SCHEMA}'s title, questions and golds; output rows
   * are keyed rows carrying the current verdict key. Builds the configured judge once per partition
   * from the rendered config (settings records are not serializable) and closes it.
   */
  static final class Rejudge implements FlatMapFunction<Iterator<Row>, Row> {
    private static final long serialVersionUID = 1L;
    private final String config;

    Rejudge(EditforgeSettings settings) {
      this.config = settings.raw().root().render(com.typesafe.config.ConfigRenderOptions.concise());
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
      EditforgeSettings settings =
          EditforgeSettings.from(ConfigFactory.parseString(config).resolve());
      boolean perRow = settings.ttt().rejudgeBaseline();
      int n = KEYED_SCHEMA.size();
      List<Row> out = new ArrayList<>();
      Map<String, List<Boolean>> baselines = new HashMap<>();
      try (ConfiguredJudge judge = ConfiguredJudge.of(settings)) {
        while (rows.hasNext()) {
          Row r = rows.next();
          String verdictKey = r.getString(n);
          List<String> texts = r.getList(n + 2);
          List<scala.collection.Seq<String>> golds = r.getList(n + 3);
          List<TttQuestion> questions = new ArrayList<>();
          for (int i = 0; i < texts.size(); i++) {
            questions.add(
                new TttQuestion(
                    texts.get(i), scala.jdk.javaapi.CollectionConverters.asJava(golds.get(i))));
          }
          TttResult stored = result(r);
          TttArticle article =
              new TttArticle(stored.articleId(), r.getString(n + 1), "", questions);
          List<Boolean> base = null;
          if (!perRow) {
            base =
                baselines.computeIfAbsent(
                    stored.articleId() + "\u001f" + verdictKey + "\u001f" + r.getString(n - 2),
                    k -> judge.judge().correctAll(items(article, stored, true)));
          }
          TttResult judged = rejudge(stored, article, judge.judge(), base);
          Row scores = ScoreTask.row(judged, r.getStruct(10));
          out.add(withKeys(scores, r.getString(n - 3), r.getString(n - 2), verdictKey));
        }
      }
      return out.iterator();
    }
  }

  /** The article rows a re-judge joins on, from the planned work. */
  static List<Row> articleRows(List<ArticleWork> todo) {
    List<Row> out = new ArrayList<>();
    for (ArticleWork a : todo) {
      List<String> texts = new ArrayList<>();
      List<Object> golds = new ArrayList<>();
      for (ArticleWork.Question q : a.questions()) {
        texts.add(q.question());
        golds.add(Rows.seq(q.answers()));
      }
      out.add(RowFactory.create(a.articleId(), a.title(), Rows.seq(texts), Rows.seq(golds)));
    }
    return out;
  }
}
