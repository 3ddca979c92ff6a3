package dev.editforge.selfrag;

import java.util.List;

/**
 * Self-RAG's 15 reflection tokens, in the order Self-RAG adds them to the tokenizer
 * (retrieval_lm/finetune.py:450, data_creation/train_special_tokens.py:312), so that a model
 * trained here gets the same ids as one trained by Self-RAG: {@code [No Retrieval]} first at the
 * tokenizer's old vocabulary size, {@code [No support / Contradictory]} last. The groups follow
 * retrieval_lm/utils.py:43-53. Immutable and thread-safe.
 */
public final class ReflectionTokens {
  public static final String NO_RETRIEVAL = "[No Retrieval]";
  public static final String RETRIEVAL = "[Retrieval]";
  public static final String CONTINUE = "[Continue to Use Evidence]";
  public static final String IRRELEVANT = "[Irrelevant]";
  public static final String RELEVANT = "[Relevant]";
  public static final String PARAGRAPH_OPEN = "<paragraph>";
  public static final String PARAGRAPH_CLOSE = "</paragraph>";
  public static final String FULLY_SUPPORTED = "[Fully supported]";
  public static final String PARTIALLY_SUPPORTED = "[Partially supported]";
  public static final String NO_SUPPORT = "[No support / Contradictory]";

  /** {@code [Utility:1]} .. {@code [Utility:5]}, index 0 = score 1. */
  public static final List<String> UTILITY =
      List.of("[Utility:1]", "[Utility:2]", "[Utility:3]", "[Utility:4]", "[Utility:5]");

  /** The retrieval decision group (utils.py:43-45). */
  public static final List<String> RETRIEVAL_GROUP = List.of(NO_RETRIEVAL, RETRIEVAL, CONTINUE);

  /** The relevance group (utils.py:46). */
  public static final List<String> RELEVANCE_GROUP = List.of(IRRELEVANT, RELEVANT);

  /** The support (groundness) group (utils.py:48-49). */
  public static final List<String> SUPPORT_GROUP =
      List.of(FULLY_SUPPORTED, PARTIALLY_SUPPORTED, NO_SUPPORT);

  /** All 15, in Self-RAG's insertion order. */
  public static final List<String> ALL =
      List.of(
          NO_RETRIEVAL,
          RETRIEVAL,
          CONTINUE,
          IRRELEVANT,
          RELEVANT,
          PARAGRAPH_OPEN,
          PARAGRAPH_CLOSE,
          UTILITY.get(0),
          UTILITY.get(1),
          UTILITY.get(2),
          UTILITY.get(3),
          UTILITY.get(4),
          FULLY_SUPPORTED,
          PARTIALLY_SUPPORTED,
          NO_SUPPORT);

  private ReflectionTokens() {}

  /** {@code [Utility:score]} for a score of 1..5. */
  public static String utility(int score) {
    if (score < 1 || score > 5) {
      throw new IllegalArgumentException("utility score must be 1..5, got " + score);
    }
    return UTILITY.get(score - 1);
  }
}
