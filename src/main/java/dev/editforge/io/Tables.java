package dev.editforge.io;

import static org.apache.spark.sql.types.DataTypes.BooleanType;
import static org.apache.spark.sql.types.DataTypes.DoubleType;
import static org.apache.spark.sql.types.DataTypes.FloatType;
import static org.apache.spark.sql.types.DataTypes.IntegerType;
import static org.apache.spark.sql.types.DataTypes.LongType;
import static org.apache.spark.sql.types.DataTypes.StringType;
import static org.apache.spark.sql.types.DataTypes.createArrayType;
import static org.apache.spark.sql.types.DataTypes.createStructField;
import static org.apache.spark.sql.types.DataTypes.createStructType;

import java.util.List;
import java.util.Map;
import org.apache.spark.sql.types.StructField;
import org.apache.spark.sql.types.StructType;

/**
 * The table contracts of DESIGN.md, as Spark schemas. Stages talk to each other only through these.
 */
public final class Tables {
  public static final String PASSAGES = "passages";
  public static final String ARTICLES = "articles";
  public static final String PROBLEMS = "problems";
  public static final String INSTRUCTIONS = "instructions";
  public static final String EMBEDDINGS = "embeddings";
  public static final String RETRIEVALS = "retrievals";
  public static final String SELF_EDITS = "self_edits";
  public static final String REASONING = "reasoning";
  public static final String TTT_SCORES = "ttt_scores";
  public static final String SFT = "sft";

  /** Self-RAG critic labels ({@code editforge critique}); schema in the critique package. */
  public static final String CRITIC_LABELS = "critic_labels";

  /** Self-RAG generator rows, {@code sft}-shaped ({@code editforge generator-data}). */
  public static final String SELFRAG_SFT = "selfrag_sft";

  /**
   * Outputs that are directories rather than Parquet tables, committed and skipped the same way.
   */
  public static final String INDEX = "index";

  public static final String FINETUNE = "finetune";
  public static final String EVALUATION = "evaluation";
  public static final String EVALUATION_SEAL = "evaluation_seal";

  /** {@code editforge predict}'s answers: {@code questions/} (Parquet) and the submission JSONL. */
  public static final String PREDICTIONS = "predictions";

  /** {@code editforge evaluate --probe identity}: base and tuned answers to "who are you?". */
  public static final String IDENTITY_PROBE = "identity_probe";

  /** SEAL's forgetting matrix ({@code editforge continual}), one row per matrix cell. */
  public static final String CONTINUAL = "continual";

  /** {@code editforge iterate}'s summary of its rounds, at the top of its run directory. */
  public static final String ROUNDS = "rounds";

  private static final java.util.Map<String, String> PRODUCERS =
      java.util.Map.ofEntries(
          java.util.Map.entry(PASSAGES, "editforge ingest --input dpr:FILE"),
          java.util.Map.entry(ARTICLES, "editforge ingest --input squad:FILE"),
          java.util.Map.entry(PROBLEMS, "editforge ingest --input logic:FILE"),
          java.util.Map.entry(INSTRUCTIONS, "editforge ingest --input instructions:FILE"),
          java.util.Map.entry(EMBEDDINGS, "editforge embed"),
          java.util.Map.entry(INDEX, "editforge index"),
          java.util.Map.entry(RETRIEVALS, "editforge retrieve"),
          java.util.Map.entry(SELF_EDITS, "editforge generate"),
          java.util.Map.entry(REASONING, "editforge generate --what reasoning"),
          java.util.Map.entry(TTT_SCORES, "editforge score"),
          java.util.Map.entry(SFT, "editforge select"),
          java.util.Map.entry(CRITIC_LABELS, "editforge critique"),
          java.util.Map.entry(SELFRAG_SFT, "editforge generator-data"),
          java.util.Map.entry(FINETUNE, "editforge finetune"),
          java.util.Map.entry(EVALUATION, "editforge evaluate"),
          java.util.Map.entry(CONTINUAL, "editforge continual"),
          java.util.Map.entry(EVALUATION_SEAL, "editforge evaluate --protocol seal"),
          java.util.Map.entry(ROUNDS, "editforge iterate"),
          java.util.Map.entry(PREDICTIONS, "editforge predict --input logic:FILE"),
          java.util.Map.entry(IDENTITY_PROBE, "editforge evaluate --probe identity"));

  /** The command that writes {@code table}, for "run X first" messages. */
  public static String producer(String table) {
    return PRODUCERS.getOrDefault(table, "the stage that writes " + table);
  }

  private Tables() {}

  private static StructField f(
      String name, org.apache.spark.sql.types.DataType type, boolean nullable) {
    return createStructField(name, type, nullable);
  }

  private static StructField s(String name) {
    return f(name, StringType, false);
  }

  private static StructField ns(String name) {
    return f(name, StringType, true);
  }

  public static final StructType MESSAGE = createStructType(List.of(s("role"), s("content")));

  public static final StructType PASSAGES_SCHEMA =
      createStructType(
          List.of(s("passage_id"), s("source_id"), s("title"), s("text"), s("source")));

  public static final StructType QUESTION =
      createStructType(
          List.of(
              s("question_id"),
              s("question"),
              f("answers", createArrayType(StringType, false), false)));

  public static final StructType ARTICLES_SCHEMA =
      createStructType(
          List.of(
              s("article_id"),
              s("title"),
              s("context"),
              f("questions", createArrayType(QUESTION, false), false)));

  public static final StructType PROBLEM_QUESTION =
      createStructType(
          List.of(
              s("question"),
              f("options", createArrayType(StringType, false), false),
              ns("answer")));

  public static final StructType PROBLEMS_SCHEMA =
      createStructType(
          List.of(
              s("problem_id"),
              s("problem"),
              f("questions", createArrayType(PROBLEM_QUESTION, false), false)));

  /** Not in DESIGN.md's list: instruction rows kept for mixing into the SFT set. */
  public static final StructType INSTRUCTIONS_SCHEMA =
      createStructType(
          List.of(
              s("instruction_id"),
              f("messages", createArrayType(MESSAGE, false), false),
              s("format")));

  public static final StructType EMBEDDINGS_SCHEMA =
      createStructType(
          List.of(
              s("passage_id"), f("vector", createArrayType(FloatType, false), false), s("model")));

  public static final StructType CTX =
      createStructType(
          List.of(
              s("passage_id"),
              s("source_id"),
              s("title"),
              s("text"),
              f("score", DoubleType, false),
              f("rank", IntegerType, false)));

  public static final StructType RETRIEVALS_SCHEMA =
      createStructType(
          List.of(s("query_id"), s("query"), f("ctxs", createArrayType(CTX, false), false)));

  public static final StructType SAMPLING =
      createStructType(
          List.of(
              f("temperature", DoubleType, false),
              f("top_p", DoubleType, false),
              f("top_k", IntegerType, false),
              f("max_new_tokens", IntegerType, false),
              f("seed", LongType, false),
              f("sample_index", IntegerType, false)));

  public static final StructType SELF_EDITS_SCHEMA =
      createStructType(
          List.of(
              s("edit_id"),
              s("article_id"),
              s("prompt_key"),
              s("prompt"),
              ns("completion"),
              s("model"),
              f("sampling", SAMPLING, false),
              ns("finish_reason"),
              ns("error")));

  /**
   * {@code evaluation_seal}: SEAL's Table 2 per held-out article, each accuracy a mean over repeats
   * (and over edits for the edit columns); policy_edits is null without a policy model.
   */
  public static final StructType EVALUATION_SEAL_SCHEMA =
      createStructType(
          List.of(
              s("article_id"),
              s("title"),
              f("questions", IntegerType, false),
              f("no_training", DoubleType, false),
              f("passage_only", DoubleType, false),
              f("base_edits", DoubleType, false),
              f("policy_edits", DoubleType, true),
              f("base_edit_count", IntegerType, false),
              f("policy_edit_count", IntegerType, false)));

  public static final StructType REASONING_SCHEMA =
      createStructType(
          List.of(
              s("trace_id"),
              s("problem_id"),
              f("question_index", IntegerType, false),
              f("sample_index", IntegerType, false),
              ns("reasoning"),
              ns("predicted"),
              ns("gold"),
              f("agrees", BooleanType, true),
              f("vote_share", DoubleType, true),
              ns("error")));

  public static final StructType TTT_QUESTION =
      createStructType(
          List.of(
              s("question"),
              s("gold"),
              ns("baseline_answer"),
              ns("adapter_answer"),
              f("baseline_correct", BooleanType, false),
              f("adapter_correct", BooleanType, false)));

  public static final StructType LORA =
      createStructType(
          List.of(
              f("rank", IntegerType, false),
              f("alpha", DoubleType, false),
              f("dropout", DoubleType, false),
              f("targets", createArrayType(StringType, false), false),
              f("epochs", IntegerType, false),
              f("lr", DoubleType, false),
              f("seed", LongType, false)));

  public static final StructType TTT_SCORES_SCHEMA =
      createStructType(
          List.of(
              s("edit_id"),
              s("article_id"),
              f("repeat", IntegerType, false),
              f("baseline_accuracy", DoubleType, false),
              f("adapter_accuracy", DoubleType, false),
              f("adapter_gain", DoubleType, false),
              f("gains", createArrayType(IntegerType, false), false),
              f("questions", createArrayType(TTT_QUESTION, false), false),
              f("train_sequences", IntegerType, false),
              f("train_tokens", LongType, false),
              f("lora", LORA, false),
              f("seconds", DoubleType, false)));

  public static final StructType SFT_SCHEMA =
      createStructType(
          List.of(
              s("prompt"),
              s("completion"),
              f("messages", createArrayType(MESSAGE, false), false),
              s("source"),
              s("origin_id"),
              f("score", DoubleType, true)));

  /**
   * One cell of a sequence's (articles + 1) x articles matrix: after {@code step} edits (0 = none),
   * the accuracy on the questions of the article in {@code column}; {@code measured} is false where
   * SEAL leaves a zero (columns of articles not edited yet, after step 0).
   */
  public static final StructType CONTINUAL_SCHEMA =
      createStructType(
          List.of(
              f("sequence", IntegerType, false),
              f("step", IntegerType, false),
              f("column", IntegerType, false),
              s("article_id"),
              ns("edited_article_id"),
              ns("self_edit"),
              f("accuracy", DoubleType, false),
              f("measured", BooleanType, false),
              f("questions", IntegerType, false)));

  /**
   * One row per ReST^EM round: the policy that wrote the round's self-edits, the TTT results of
   * those edits (means over ttt_scores rows), the SFT rows selected from them, and the round's
   * tuned model's no-context QA accuracy on the held-out articles (null when evaluate did not run),
   * and SEAL's evaluation of the round on the held-out articles ({@link #EVALUATION_SEAL_SCHEMA}'s
   * four manifest means; the policy edits are written by the model the round trained).
   */
  public static final StructType ROUNDS_SCHEMA =
      createStructType(
          List.of(
              f("round", IntegerType, false),
              s("policy_model"),
              s("policy_fingerprint"),
              f("mean_baseline_accuracy", DoubleType, false),
              f("mean_adapter_accuracy", DoubleType, false),
              f("mean_gain", DoubleType, false),
              f("positive_gain_share", DoubleType, false),
              f("sft_rows", LongType, false),
              f("eval_accuracy", DoubleType, true),
              f("seal_no_training", DoubleType, true),
              f("seal_passage_only", DoubleType, true),
              f("seal_base_edits", DoubleType, true),
              f("seal_policy_edits", DoubleType, true)));

  public static final StructType REJECTS_SCHEMA =
      createStructType(
          List.of(s("reason"), s("source_file"), f("line", LongType, false), ns("record")));

  private static final Map<String, StructType> ALL =
      Map.ofEntries(
          Map.entry(PASSAGES, PASSAGES_SCHEMA),
          Map.entry(ARTICLES, ARTICLES_SCHEMA),
          Map.entry(PROBLEMS, PROBLEMS_SCHEMA),
          Map.entry(INSTRUCTIONS, INSTRUCTIONS_SCHEMA),
          Map.entry(EMBEDDINGS, EMBEDDINGS_SCHEMA),
          Map.entry(RETRIEVALS, RETRIEVALS_SCHEMA),
          Map.entry(SELF_EDITS, SELF_EDITS_SCHEMA),
          Map.entry(REASONING, REASONING_SCHEMA),
          Map.entry(TTT_SCORES, TTT_SCORES_SCHEMA),
          Map.entry(SFT, SFT_SCHEMA),
          Map.entry(EVALUATION_SEAL, EVALUATION_SEAL_SCHEMA),
          Map.entry(CONTINUAL, CONTINUAL_SCHEMA),
          Map.entry(ROUNDS, ROUNDS_SCHEMA));

  public static StructType schema(String table) {
    StructType t = ALL.get(table);
    if (t == null) {
      throw new IllegalArgumentException(
          "unknown table " + table + "; tables: " + String.join(", ", names()));
    }
    return t;
  }

  public static List<String> names() {
    return ALL.keySet().stream().sorted().toList();
  }
}
