package dev.editforge.report;

import java.util.List;
import java.util.Map;

/**
 * What a finished run looks like to a person: the data behind every section of the HTML report,
 * read by {@link RunReader} and drawn by {@link HtmlReport}. A section whose data the run does not
 * have is null (or an empty list) and the page says "not in this run".
 *
 * @param runDir where the run lives, as shown on the page
 * @param generatedAt when the report was made (ISO-8601)
 * @param dataRun the run directory the per-article sections read: the run itself, or for {@code
 *     editforge iterate} its latest {@code round-<r>} (shown beside those sections)
 * @param commands the {@code _runs/} records, oldest first
 * @param tables every table's manifest (nested runs' tables named {@code round-0/sft}), by start
 * @param rejects reject reasons of every table that kept {@code _rejects}, most frequent first
 */
public record RunReport(
    String runDir,
    String generatedAt,
    String dataRun,
    List<Command> commands,
    List<Table> tables,
    List<Rejects> rejects,
    Ttt ttt,
    Selection selection,
    Finetune finetune,
    Evaluation evaluation,
    SealEvaluation sealEvaluation,
    List<RetrievalEval> retrieval,
    Rounds rounds,
    Continual continual) {

  public RunReport {
    commands = List.copyOf(commands);
    tables = List.copyOf(tables);
    rejects = List.copyOf(rejects);
    retrieval = List.copyOf(retrieval);
  }

  /** One command invocation ({@code _runs/<time>-<command>.json}). */
  public record Command(String command, String startedAt, String endedAt, int exitCode) {}

  /**
   * One table's manifest: who wrote it, when, and what went in and out ({@code input = accepted +
   * rejected + duplicates}). Times are ISO-8601 or null; {@code seconds} is NaN when unknown.
   */
  public record Table(
      String table,
      String stage,
      String status,
      String startedAt,
      String endedAt,
      double seconds,
      long input,
      long accepted,
      long rejected,
      long duplicates,
      long output) {}

  /** A table's reject reasons; {@code total} counts every reject, {@code reasons} the top ones. */
  public record Rejects(String table, long total, List<Reason> reasons, int moreReasons) {}

  /** One reason, how often it occurred, and a few of the records it refused. */
  public record Reason(String reason, long count, List<Example> examples) {}

  /** A refused record as the stage kept it ({@code record} may be cut short). */
  public record Example(String sourceFile, long line, String record) {}

  /**
   * TTT scoring: each edit's gain (mean over repeats) and each article's mean baseline and adapter
   * accuracy over its edits.
   */
  public record Ttt(List<Double> editGains, List<ArticleTtt> articles, int totalArticles) {}

  public record ArticleTtt(
      String articleId, String title, int edits, double baseline, double adapter) {}

  /**
   * Best-k selection: the {@code sft} manifest's counts (self-edits considered, kept, and why the
   * rest were left out; rows by source) and, per prompt format, how many edits were generated,
   * scored and kept and their mean gain.
   */
  public record Selection(
      long considered,
      long kept,
      Map<String, Long> leftOut,
      Map<String, Long> rowsBySource,
      List<PromptFormat> formats) {}

  /** {@code meanGain} is NaN when none of the format's edits was scored. */
  public record PromptFormat(
      String promptKey, long generated, long scored, double meanGain, long kept) {}

  /** A loss curve point. */
  public record Point(double x, double y) {}

  /** Finetune's loss history ({@code finetune/trainer_log.json}); eval starts at step 0. */
  public record Finetune(
      List<Point> trainLoss, List<Point> evalLoss, int bestStep, Map<String, String> facts) {}

  /** Base vs tuned no-context QA accuracy per article ({@code evaluation/articles}). */
  public record Evaluation(
      List<ArticleEval> articles, double baseAccuracy, double tunedAccuracy, int totalArticles) {}

  public record ArticleEval(
      String articleId, String title, int questions, double base, double tuned) {}

  /**
   * SEAL's Table 2 per held-out article ({@code evaluation_seal}); {@code policyEdits} is NaN
   * without a policy model. {@code means} holds the manifest's four means by column name.
   */
  public record SealEvaluation(
      List<SealArticle> articles, Map<String, Double> means, int totalArticles) {}

  public record SealArticle(
      String articleId,
      String title,
      int questions,
      double noTraining,
      double passageOnly,
      double baseEdits,
      double policyEdits) {}

  /**
   * One {@code editforge evaluate-retrieval} result: per mode, top-k answer accuracy and gold
   * recall@k (NaN where no query could be counted).
   */
  public record RetrievalEval(
      String queries,
      String evaluatedAt,
      int queryCount,
      int withAnswers,
      int withGold,
      List<Integer> ks,
      List<ModeResult> modes) {}

  public record ModeResult(String mode, List<Double> accuracy, List<Double> recall) {}

  /** The {@code rounds} table as columns and rows of display values, ordered by round. */
  public record Rounds(List<String> columns, List<List<Object>> rows) {}

  /**
   * SEAL's forgetting matrix, the mean over sequences: {@code accuracy[step][column]}, NaN where
   * SEAL leaves a zero (articles not edited yet).
   */
  public record Continual(int sequences, double[][] accuracy) {}
}
