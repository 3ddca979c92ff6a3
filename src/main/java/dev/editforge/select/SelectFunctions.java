package dev.editforge.select;

import dev.editforge.config.SelectSettings;
import dev.editforge.io.SftRow;
import dev.editforge.text.LogicSftRecipe;
import dev.editforge.text.PyText;
import dev.editforge.text.ReasoningPrompts;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.api.java.function.PairFunction;
import org.apache.spark.sql.Row;
import scala.Tuple2;

/** The Spark functions of select: static classes with small final fields, nothing captured. */
final class SelectFunctions {
  private SelectFunctions() {}

  /**
   * Columns of the joined edit rows: edit_id, article_id, prompt, completion, sample_index, repeats
   * (array of struct repeat, adapter_accuracy, baseline_accuracy; null when unscored).
   */
  static final int EDIT_ID = 0;

  static final int ARTICLE_ID = 1;
  static final int PROMPT = 2;
  static final int COMPLETION = 3;
  static final int SAMPLE_INDEX = 4;
  static final int REPEATS = 5;

  /** What one article's selection emits: its selected rows (best first) or, once, its counts. */
  static final class Picked implements Serializable {
    private static final long serialVersionUID = 1L;
    final String articleId;
    final int rank;
    final String prompt;
    final String completion;
    final String editId;
    final double score;

    /**
     * input, selected, unscored, blank, belowGain, belowAccuracy, duplicates, beyondK; null for a
     * row.
     */
    final long[] counts;

    Picked(
        String articleId,
        int rank,
        String prompt,
        String completion,
        String editId,
        double score,
        long[] counts) {
      this.articleId = articleId;
      this.rank = rank;
      this.prompt = prompt;
      this.completion = completion;
      this.editId = editId;
      this.score = score;
      this.counts = counts;
    }

    boolean isCounts() {
      return counts != null;
    }
  }

  static final class KeyByArticle implements PairFunction<Row, String, Row> {
    @Override
    public Tuple2<String, Row> call(Row r) {
      return new Tuple2<>(r.getString(ARTICLE_ID), r);
    }
  }

  /**
   * Best-k of one article's edits with {@link BestKSelector}, in generation order (sample index).
   */
  static final class SelectArticle
      implements FlatMapFunction<Tuple2<String, Iterable<Row>>, Picked> {
    private final int k;
    private final Double requireGainAbove;
    private final Double minAdapterAccuracy;
    private final boolean dropDuplicates;

    SelectArticle(SelectSettings s) {
      this.k = s.k();
      this.requireGainAbove = s.requireGainAbove();
      this.minAdapterAccuracy = s.minAdapterAccuracy();
      this.dropDuplicates = s.dropDuplicates();
    }

    @Override
    public Iterator<Picked> call(Tuple2<String, Iterable<Row>> group) {
      List<Row> rows = new ArrayList<>();
      group._2().forEach(rows::add);
      rows.sort(
          Comparator.<Row>comparingInt(r -> r.getInt(SAMPLE_INDEX))
              .thenComparing(r -> r.getString(EDIT_ID)));
      List<EditScore> edits = new ArrayList<>(rows.size());
      for (Row r : rows) {
        edits.add(editScore(r));
      }
      BestKSelector.Selection s =
          new BestKSelector(
                  new SelectSettings(k, requireGainAbove, minAdapterAccuracy, dropDuplicates))
              .select(edits);
      List<Picked> out = new ArrayList<>(s.rows().size() + 1);
      for (int i = 0; i < s.rows().size(); i++) {
        SftRow row = s.rows().get(i);
        out.add(
            new Picked(
                group._1(), i, row.prompt(), row.completion(), row.originId(), row.score(), null));
      }
      BestKSelector.Counts c = s.counts();
      out.add(new Picked(group._1(), -1, null, null, null, 0, c.editCounts()));
      return out.iterator();
    }

    static EditScore editScore(Row r) {
      List<Double> adapter = new ArrayList<>();
      List<Double> baseline = new ArrayList<>();
      if (!r.isNullAt(REPEATS)) {
        List<Row> repeats = new ArrayList<>(r.<Row>getList(REPEATS));
        repeats.sort(Comparator.comparingInt(x -> x.getInt(0)));
        for (Row x : repeats) {
          adapter.add(x.getDouble(1));
          baseline.add(x.getDouble(2));
        }
      }
      String completion = r.isNullAt(COMPLETION) ? "" : r.getString(COMPLETION);
      return new EditScore(
          r.getString(ARTICLE_ID),
          r.getString(EDIT_ID),
          r.getInt(SAMPLE_INDEX),
          r.getString(PROMPT),
          completion,
          adapter,
          baseline);
    }
  }

  /**
   * One reasoning trace's fate: {@code drop} null when kept (then prompt and completion are set).
   */
  static final class ReasoningPick implements Serializable {
    private static final long serialVersionUID = 1L;
    final String drop;
    final String problemId;
    final int questionIndex;
    final int sampleIndex;
    final String traceId;
    final String prompt;
    final String completion;
    final Double voteShare;

    ReasoningPick(
        String drop,
        String problemId,
        int questionIndex,
        int sampleIndex,
        String traceId,
        String prompt,
        String completion,
        Double voteShare) {
      this.drop = drop;
      this.problemId = problemId;
      this.questionIndex = questionIndex;
      this.sampleIndex = sampleIndex;
      this.traceId = traceId;
      this.prompt = prompt;
      this.completion = completion;
      this.voteShare = voteShare;
    }
  }

  /**
   * A trace joined with its question (columns trace_id, problem_id, question_index, sample_index,
   * reasoning, agrees, vote_share, error, problem, question, options; the last three null when the
   * problem or question is missing) → kept with its student prompt, or dropped with the reason.
   */
  static final class DecideTrace implements Function<Row, ReasoningPick> {
    private final String studentPrompt;
    private final HashMap<String, String> templates;
    private final boolean onlyAgreeing;
    private final double minVoteShare;
    private transient ReasoningPrompts prompts;

    private final boolean logicSft;

    DecideTrace(String studentPrompt, Map<String, String> templates, ReasoningRows.Settings s) {
      this(studentPrompt, templates, s, false);
    }

    /**
     * @param logicSft build seed 004's training text ({@link LogicSftRecipe}) instead of the
     *     student prompt + trace; reads the gold (or, without one, the predicted) letter from
     *     columns 11 and 12
     */
    DecideTrace(
        String studentPrompt,
        Map<String, String> templates,
        ReasoningRows.Settings s,
        boolean logicSft) {
      this.logicSft = logicSft;
      this.studentPrompt = studentPrompt;
      this.templates = new HashMap<>(templates);
      this.onlyAgreeing = s.onlyAgreeing();
      this.minVoteShare = s.minVoteShare();
    }

    @Override
    public ReasoningPick call(Row r) {
      String traceId = r.getString(0);
      String problemId = r.getString(1);
      int question = r.getInt(2);
      int sample = r.getInt(3);
      String reasoning = r.isNullAt(4) ? null : r.getString(4);
      Boolean agrees = r.isNullAt(5) ? null : r.getBoolean(5);
      Double share = r.isNullAt(6) ? null : r.getDouble(6);
      String error = r.isNullAt(7) ? null : r.getString(7);
      ReasoningRows.Drop drop =
          ReasoningRows.drop(
              error,
              reasoning,
              agrees,
              share,
              new ReasoningRows.Settings(true, onlyAgreeing, minVoteShare));
      if (drop == null && r.isNullAt(8)) {
        drop = ReasoningRows.Drop.NO_PROBLEM;
      }
      if (drop != null) {
        return new ReasoningPick(
            drop.key(), problemId, question, sample, traceId, null, null, share);
      }
      if (logicSft) {
        return logicSftPick(r, problemId, question, sample, traceId, reasoning, share);
      }
      if (prompts == null) {
        prompts = new ReasoningPrompts(templates);
      }
      String prompt;
      try {
        prompt =
            prompts.student(studentPrompt, r.getString(8), r.getString(9), r.<String>getList(10));
      } catch (IllegalArgumentException e) {
        return new ReasoningPick(
            ReasoningRows.Drop.NO_PROBLEM.key(),
            problemId,
            question,
            sample,
            traceId,
            null,
            null,
            share);
      }
      SftRow row = ReasoningRows.row(prompt, reasoning, traceId, share);
      return new ReasoningPick(
          null, problemId, question, sample, traceId, row.prompt(), row.completion(), share);
    }

    /**
     * The seed's training text split at {@code ### 分析过程\n}: prompt + completion is the text the
     * seed trains on; the trainer's tokenizer appends EOS. A trace without an answer letter to end
     * on (no gold and no predicted answer) is dropped as not agreeing.
     */
    private static ReasoningPick logicSftPick(
        Row r,
        String problemId,
        int question,
        int sample,
        String traceId,
        String reasoning,
        Double share) {
      String answer = !r.isNullAt(11) ? r.getString(11) : r.isNullAt(12) ? null : r.getString(12);
      if (answer == null) {
        return new ReasoningPick(
            ReasoningRows.Drop.NOT_AGREEING.key(),
            problemId,
            question,
            sample,
            traceId,
            null,
            null,
            share);
      }
      String prompt;
      try {
        prompt = LogicSftRecipe.trainPrompt(r.getString(8), r.getString(9), r.getList(10));
      } catch (IllegalArgumentException e) {
        return new ReasoningPick(
            ReasoningRows.Drop.NO_PROBLEM.key(),
            problemId,
            question,
            sample,
            traceId,
            null,
            null,
            share);
      }
      String completion = LogicSftRecipe.trainCompletion(PyText.strip(reasoning), answer);
      return new ReasoningPick(
          null, problemId, question, sample, traceId, prompt, completion, share);
    }
  }
}
