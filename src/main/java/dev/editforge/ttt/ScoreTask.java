package dev.editforge.ttt;

import dev.editforge.config.ScoreSettings;
import dev.editforge.io.Rows;
import dev.editforge.spark.ExecutorModelCache;
import dev.editforge.spark.TaskResources;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.TreeSet;
import org.apache.spark.SparkEnv;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.util.CollectionAccumulator;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scores one article's edits on an executor: resolves the task's device (its Spark-assigned GPU or
 * the CPU), takes this JVM's scorer for (model, device, dtype) from {@link ExecutorModelCache} —
 * created through the factory only the first time — and turns the results into {@code ttt_scores}
 * rows. A scorer that is not thread-safe is used by one task thread at a time. Checks that every
 * edit came back exactly {@code eval-times} times.
 */
final class ScoreTask implements FlatMapFunction<ArticleWork, Row> {
  private static final long serialVersionUID = 1L;
  private static final Logger LOG = LoggerFactory.getLogger(ScoreTask.class);

  private final EditScorerFactory factory;
  private final String deviceSetting;
  private final int evalTimes;
  private final ScoreSettings.Lora lora;
  private final CollectionAccumulator<String> devices;

  ScoreTask(EditScorerFactory factory, ScoreSettings s, CollectionAccumulator<String> devices) {
    this.factory = factory;
    this.deviceSetting = s.device();
    this.evalTimes = s.evalTimes();
    this.lora = s.lora();
    this.devices = devices;
  }

  @Override
  public Iterator<Row> call(ArticleWork work) {
    List<String> assigned = TaskResources.gpuAddresses();
    ScoreDevice device = ScoreDevice.resolve(deviceSetting, assigned);
    ExecutorModelCache.Key key =
        new ExecutorModelCache.Key(
            factory.model(), device.name(), factory.dtype(), factory.variant());
    EditScorer scorer = ExecutorModelCache.get(key, () -> factory.create(device));
    String used = factory.deviceUsed(scorer, device);
    String executor = SparkEnv.get() == null ? "?" : SparkEnv.get().executorId();
    String where =
        "executor="
            + executor
            + " assigned="
            + (assigned.isEmpty() ? "none" : String.join(",", assigned))
            + " device="
            + device.name()
            + " used="
            + used;
    LOG.info(
        "scoring article {} ({} edits x {}) on {}",
        work.articleId(),
        work.edits().size(),
        evalTimes,
        where);
    if (devices != null) {
      devices.add(where);
    }
    List<TttResult> results;
    if (factory.threadSafe()) {
      results = scorer.score(work.article(), work.tttEdits(), work.baselineAnswers());
    } else {
      synchronized (scorer) {
        results = scorer.score(work.article(), work.tttEdits(), work.baselineAnswers());
      }
    }
    check(work, results, evalTimes);
    List<Row> rows = new ArrayList<>(results.size());
    for (TttResult r : results) {
      rows.add(row(r, lora));
    }
    return rows.iterator();
  }

  /** Every edit exactly {@code evalTimes} distinct repeats, nothing else. */
  static void check(ArticleWork work, List<TttResult> results, int evalTimes) {
    Map<String, TreeSet<Integer>> repeats = new HashMap<>();
    for (ArticleWork.Edit e : work.edits()) {
      repeats.put(e.editId(), new TreeSet<>());
    }
    for (TttResult r : results) {
      TreeSet<Integer> seen = repeats.get(r.editId());
      if (seen == null || !work.articleId().equals(r.articleId())) {
        throw new IllegalStateException(
            "scorer returned a result for edit "
                + r.editId()
                + " of article "
                + r.articleId()
                + ", which was not asked for (article "
                + work.articleId()
                + ")");
      }
      if (!seen.add(r.repeat())) {
        throw new IllegalStateException(
            "scorer returned repeat " + r.repeat() + " of edit " + r.editId() + " twice");
      }
    }
    for (Map.Entry<String, TreeSet<Integer>> e : repeats.entrySet()) {
      if (e.getValue().size() != evalTimes) {
        throw new IllegalStateException(
            "scorer returned "
                + e.getValue().size()
                + " repeats of edit "
                + e.getKey()
                + ", editforge.ttt.eval-times = "
                + evalTimes);
      }
    }
  }

  static Row row(TttResult r, ScoreSettings.Lora lora) {
    return row(
        r,
        RowFactory.create(
            lora.rank(),
            lora.alpha(),
            lora.dropout(),
            Rows.seq(lora.targets()),
            lora.epochs(),
            lora.lr(),
            lora.seed()));
  }

  /** A result as a {@code ttt_scores} row with the given {@code lora} struct. */
  static Row row(TttResult r, Row loraRow) {
    List<Row> questions = new ArrayList<>(r.questions().size());
    for (QuestionResult q : r.questions()) {
      questions.add(
          RowFactory.create(
              q.question(),
              q.gold(),
              q.baselineAnswer(),
              q.adapterAnswer(),
              q.baselineCorrect(),
              q.adapterCorrect()));
    }
    return RowFactory.create(
        r.editId(),
        r.articleId(),
        r.repeat(),
        r.baselineAccuracy(),
        r.adapterAccuracy(),
        r.adapterGain(),
        Rows.seq(r.gains()),
        Rows.seq(questions),
        r.trainSequences(),
        r.trainTokens(),
        loraRow,
        r.seconds());
  }
}
