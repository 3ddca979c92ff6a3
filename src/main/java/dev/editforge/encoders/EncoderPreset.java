package dev.editforge.encoders;

import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;

/**
 * Everything besides the weights that makes an encoder's vectors comparable to what it was trained
 * for: pooling, normalization, the text put in front of queries and passages, and the similarity
 * its vectors must be searched with. Using the wrong preset does not fail, it silently costs
 * recall, which is why presets are named and fixed here rather than assembled by hand.
 *
 * @param queryInstruction put before a query, ahead of {@code queryPrefix} (bge's "Represent this
 *     sentence ..." instruction); passages never get it
 */
public record EncoderPreset(
    String name,
    Pooling pooling,
    boolean normalize,
    String queryPrefix,
    String passagePrefix,
    String queryInstruction,
    VectorSimilarity similarity) {

  public static final EncoderPreset MINILM =
      new EncoderPreset("minilm", Pooling.MEAN, true, "", "", "", VectorSimilarity.COSINE);
  public static final EncoderPreset CONTRIEVER =
      new EncoderPreset(
          "contriever", Pooling.MEAN, false, "", "", "", VectorSimilarity.MAXIMUM_INNER_PRODUCT);
  public static final EncoderPreset CONTRIEVER_MSMARCO =
      new EncoderPreset(
          "contriever-msmarco",
          Pooling.MEAN,
          false,
          "",
          "",
          "",
          VectorSimilarity.MAXIMUM_INNER_PRODUCT);
  public static final EncoderPreset E5 =
      new EncoderPreset(
          "e5", Pooling.MEAN, true, "query: ", "passage: ", "", VectorSimilarity.COSINE);
  public static final EncoderPreset BGE =
      new EncoderPreset(
          "bge",
          Pooling.CLS,
          true,
          "",
          "",
          "Represent this sentence for searching relevant passages: ",
          VectorSimilarity.COSINE);

  private static final Map<String, EncoderPreset> BY_NAME = new LinkedHashMap<>();

  static {
    for (EncoderPreset p : new EncoderPreset[] {MINILM, CONTRIEVER, CONTRIEVER_MSMARCO, E5, BGE}) {
      BY_NAME.put(p.name(), p);
    }
  }

  public EncoderPreset {
    Objects.requireNonNull(name, "name");
    Objects.requireNonNull(pooling, "pooling");
    Objects.requireNonNull(similarity, "similarity");
    queryPrefix = queryPrefix == null ? "" : queryPrefix;
    passagePrefix = passagePrefix == null ? "" : passagePrefix;
    queryInstruction = queryInstruction == null ? "" : queryInstruction;
    if (similarity.requiresUnitVectors() && !normalize) {
      throw new IllegalArgumentException(
          "preset "
              + name
              + ": dot-product similarity needs normalized vectors; "
              + "use maximum-inner-product for unnormalized ones");
    }
  }

  /** The preset of that name; the error lists the known names. */
  public static EncoderPreset named(String name) {
    EncoderPreset p = BY_NAME.get(name);
    if (p == null) {
      throw new IllegalArgumentException(
          "unknown encoder preset \""
              + name
              + "\": expected one of "
              + String.join(", ", BY_NAME.keySet()));
    }
    return p;
  }

  public static Map<String, EncoderPreset> all() {
    return Map.copyOf(BY_NAME);
  }

  /** The text the model actually sees for a query. */
  public String queryText(String query) {
    return queryInstruction + queryPrefix + query;
  }

  /** The text the model actually sees for a passage. */
  public String passageText(String passage) {
    return passagePrefix + passage;
  }

  /**
   * A passage as Self-RAG / contriever's retriever encodes it: {@code title + " " + text}; a
   * missing title contributes nothing.
   */
  public static String passageInput(String title, String text) {
    if (title == null || title.isBlank()) {
      return text;
    }
    return title + " " + text;
  }
}
