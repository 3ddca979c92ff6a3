package dev.editforge.critique;

import static org.apache.spark.sql.types.DataTypes.IntegerType;
import static org.apache.spark.sql.types.DataTypes.StringType;
import static org.apache.spark.sql.types.DataTypes.createStructField;
import static org.apache.spark.sql.types.DataTypes.createStructType;

import java.util.List;
import org.apache.spark.sql.types.StructType;

/** The tables of the Self-RAG data stages and their schemas. */
public final class CritiqueTables {
  /** One row per critic question: what was asked, the raw reply, the label or why there is none. */
  public static final String CRITIC_LABELS = dev.editforge.io.Tables.CRITIC_LABELS;

  /** Self-RAG generator rows as {@code sft} rows with source {@code selfrag}; select mixes them. */
  public static final String SELFRAG_SFT = dev.editforge.io.Tables.SELFRAG_SFT;

  /**
   * {@code label_id} hashes type, judge model, template and prompt, so a kept row is exactly what
   * the current settings would ask; {@code sent_idx}/{@code p_idx} are null where the question is
   * about the whole instruction or output; exactly one of {@code label} and {@code error} is set.
   */
  public static final StructType CRITIC_LABELS_SCHEMA =
      createStructType(
          List.of(
              createStructField("label_id", StringType, false),
              createStructField("type", StringType, false),
              createStructField("instruction_id", StringType, false),
              createStructField("sent_idx", IntegerType, true),
              createStructField("p_idx", IntegerType, true),
              createStructField("passage_id", StringType, true),
              createStructField("template", StringType, false),
              createStructField("prompt", StringType, false),
              createStructField("raw", StringType, true),
              createStructField("parsed", StringType, true),
              createStructField("label", StringType, true),
              createStructField("error", StringType, true),
              createStructField("model", StringType, false)));

  private CritiqueTables() {}
}
