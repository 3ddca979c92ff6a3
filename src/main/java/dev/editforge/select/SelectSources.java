package dev.editforge.select;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.collect_list;
import static org.apache.spark.sql.functions.posexplode;
import static org.apache.spark.sql.functions.struct;

import dev.editforge.config.ReasoningSettings;
import dev.editforge.config.SelectSettings;
import dev.editforge.io.RunDir;
import dev.editforge.io.SealRunFile;
import dev.editforge.io.SftRow;
import dev.editforge.io.SftSource;
import dev.editforge.io.Tables;
import dev.editforge.io.UnusableInputException;
import dev.editforge.llm.ChatMessage;
import dev.editforge.spark.StageContext;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * The rows each SFT source offers {@code select}, read from the run's tables (or a SEAL ranking
 * file), each in its dataset order. Every reader puts what it saw into {@code detail} — the
 * manifest counts {@link SelectCounts} adds up — so that no offered row goes uncounted.
 */
final class SelectSources {
  private SelectSources() {}

  /**
   * The instruction rows that parsed, and how many records did not (a system or user turn missing,
   * ...).
   */
  record Instructions(List<SftRow> rows, long invalid, boolean read) {
    static final Instructions NONE = new Instructions(List.of(), 0, false);

    Instructions {
      rows = List.copyOf(rows);
    }

    /** Every record offered: parsed or not; none when the table was not read. */
    long offered() {
      return read ? rows.size() + invalid : 0;
    }
  }

  /** Best k per article of a SEAL ranking file, on the driver (the file is small). */
  static List<SftRow> sealRunEdits(
      SelectSettings settings,
      String file,
      org.apache.hadoop.conf.Configuration conf,
      Map<String, Long> detail) {
    try {
      BestKSelector.Selection s =
          new BestKSelector(settings)
              .select(SealRunImport.editScores(SealRunFile.read(file, conf)));
      BestKSelector.Counts c = s.counts();
      putEditCounts(detail, c.articles(), c.editCounts());
      return s.rows();
    } catch (IOException e) {
      throw new UnusableInputException("cannot read SEAL run file " + file + ": " + e.getMessage());
    }
  }

  /** ttt_scores grouped per edit, joined to self_edits, best k per article on the executors. */
  static List<SftRow> tableEdits(StageContext ctx, Map<String, Long> detail) {
    SparkSession spark = ctx.spark();
    RunDir run = ctx.runDir();
    Dataset<Row> scores =
        spark
            .read()
            .parquet(run.tableUri(Tables.TTT_SCORES))
            .groupBy("edit_id")
            .agg(
                collect_list(
                        struct(col("repeat"), col("adapter_accuracy"), col("baseline_accuracy")))
                    .as("repeats"));
    Dataset<Row> edits =
        spark
            .read()
            .parquet(run.tableUri(Tables.SELF_EDITS))
            .select(
                col("edit_id"),
                col("article_id"),
                col("prompt"),
                col("completion"),
                col("sampling.sample_index").as("sample_index"));
    JavaRDD<Row> joined =
        edits
            .join(scores, edits.col("edit_id").equalTo(scores.col("edit_id")), "left")
            .select(
                edits.col("edit_id"),
                col("article_id"),
                col("prompt"),
                col("completion"),
                col("sample_index"),
                col("repeats"))
            .javaRDD();
    List<SelectFunctions.Picked> picked =
        joined
            .mapToPair(new SelectFunctions.KeyByArticle())
            .groupByKey(ctx.settings().spark().shufflePartitions())
            .flatMap(new SelectFunctions.SelectArticle(ctx.settings().select()))
            .collect();
    return pickedRows(picked, detail);
  }

  /**
   * The executors' picks in (article, rank) order, their per-article counts summed into {@code
   * detail}.
   */
  static List<SftRow> pickedRows(List<SelectFunctions.Picked> picked, Map<String, Long> detail) {
    long[] counts = new long[8];
    long articles = 0;
    List<SelectFunctions.Picked> rows = new ArrayList<>();
    for (SelectFunctions.Picked p : picked) {
      if (p.isCounts()) {
        articles++;
        for (int i = 0; i < counts.length; i++) {
          counts[i] += p.counts[i];
        }
      } else {
        rows.add(p);
      }
    }
    rows.sort(
        Comparator.<SelectFunctions.Picked, String>comparing(p -> p.articleId)
            .thenComparingInt(p -> p.rank));
    putEditCounts(detail, articles, counts);
    List<SftRow> out = new ArrayList<>(rows.size());
    for (SelectFunctions.Picked p : rows) {
      out.add(SftRow.exchange(p.prompt, p.completion, SftSource.SELF_EDIT, p.editId, p.score));
    }
    return out;
  }

  /**
   * {@code c} in {@link BestKSelector.Counts} order: input, selected, unscored, blank, ... beyond
   * k.
   */
  private static void putEditCounts(Map<String, Long> detail, long articles, long[] c) {
    detail.put("articles", articles);
    detail.put("self_edits", c[0]);
    detail.put("unscored", c[2]);
    detail.put("blank", c[3]);
    detail.put("below_gain", c[4]);
    detail.put("below_accuracy", c[5]);
    detail.put("duplicates", c[6]);
    detail.put("beyond_k", c[7]);
  }

  /**
   * Reasoning traces joined to their questions; kept ones become rows in (problem, question,
   * sample) order.
   */
  static List<SftRow> reasoning(StageContext ctx, Map<String, Long> detail) {
    SparkSession spark = ctx.spark();
    RunDir run = ctx.runDir();
    Dataset<Row> questions =
        spark
            .read()
            .parquet(run.tableUri(Tables.PROBLEMS))
            .select(
                col("problem_id").as("q_problem_id"),
                col("problem"),
                posexplode(col("questions")).as(new String[] {"q_index", "q"}));
    Dataset<Row> traces = spark.read().parquet(run.tableUri(Tables.REASONING));
    JavaRDD<Row> joined =
        traces
            .join(
                questions,
                traces
                    .col("problem_id")
                    .equalTo(questions.col("q_problem_id"))
                    .and(traces.col("question_index").equalTo(questions.col("q_index"))),
                "left")
            .select(
                col("trace_id"),
                col("problem_id"),
                col("question_index"),
                col("sample_index"),
                col("reasoning"),
                col("agrees"),
                col("vote_share"),
                col("error"),
                col("problem"),
                col("q.question"),
                col("q.options"),
                col("gold"),
                col("predicted"))
            .javaRDD();
    ReasoningSettings rs = ctx.settings().reasoning();
    List<SelectFunctions.ReasoningPick> picks =
        joined
            .map(
                new SelectFunctions.DecideTrace(
                    rs.studentPrompt(),
                    rs.templates(),
                    SftSettings.of(ctx.settings()).reasoning(),
                    rs.logicSft()))
            .collect();
    return reasoningRows(picks, detail);
  }

  /**
   * The kept traces as rows in (problem, question, sample, trace) order; drops counted per reason.
   */
  static List<SftRow> reasoningRows(
      List<SelectFunctions.ReasoningPick> decided, Map<String, Long> detail) {
    List<SelectFunctions.ReasoningPick> picks = new ArrayList<>(decided);
    picks.sort(
        Comparator.<SelectFunctions.ReasoningPick, String>comparing(p -> p.problemId)
            .thenComparingInt(p -> p.questionIndex)
            .thenComparingInt(p -> p.sampleIndex)
            .thenComparing(p -> p.traceId));
    Map<String, Long> drops = new TreeMap<>();
    for (ReasoningRows.Drop d : ReasoningRows.Drop.values()) {
      drops.put(d.key(), 0L);
    }
    List<SftRow> out = new ArrayList<>();
    for (SelectFunctions.ReasoningPick p : picks) {
      if (p.drop == null) {
        out.add(
            new SftRow(
                p.prompt,
                p.completion,
                List.of(ChatMessage.user(p.prompt), ChatMessage.assistant(p.completion)),
                SftSource.REASONING,
                p.traceId,
                p.voteShare));
      } else {
        drops.merge(p.drop, 1L, Long::sum);
      }
    }
    detail.put("reasoning_traces", (long) picks.size());
    detail.put("reasoning_dropped", (long) (picks.size() - out.size()));
    detail.putAll(drops);
    return out;
  }

  /** The instructions table in id order. */
  static Instructions instructions(StageContext ctx) {
    List<List<ChatMessage>> records = new ArrayList<>();
    for (Row r :
        ctx.spark()
            .read()
            .parquet(ctx.runDir().tableUri(Tables.INSTRUCTIONS))
            .orderBy("instruction_id")
            .collectAsList()) {
      List<ChatMessage> messages = new ArrayList<>();
      for (Row m : r.<Row>getList(r.fieldIndex("messages"))) {
        messages.add(new ChatMessage(m.getString(0), m.getString(1)));
      }
      records.add(messages);
    }
    return instructions(records);
  }

  /**
   * Instruction records as rows; a record {@link InstructionData} refuses is counted, not fatal.
   */
  static Instructions instructions(List<List<ChatMessage>> records) {
    List<SftRow> rows = new ArrayList<>();
    long invalid = 0;
    for (List<ChatMessage> messages : records) {
      try {
        rows.add(InstructionData.fromMessages(messages));
      } catch (IllegalArgumentException e) {
        invalid++;
      }
    }
    return new Instructions(rows, invalid, true);
  }
}
