package dev.editforge.encoders;

import java.util.Arrays;

/**
 * The outcome of one {@link Encoder#encode} call, index-aligned with its input.
 *
 * @param vectors the vector of each text, or null where the text was rejected
 * @param rejections null where the text was embedded, otherwise why it was not
 * @param truncated whether the text was longer than the encoder's max length and cut
 * @param tokens real tokens fed to the model (special tokens included, padding excluded)
 * @param paddedTokens token slots the model computed, padding included: {@code paddedTokens /
 *     tokens - 1} is the padding overhead
 */
public record EncodedBatch(
    float[][] vectors, String[] rejections, boolean[] truncated, long tokens, long paddedTokens) {

  public EncodedBatch {
    if (vectors.length != rejections.length || vectors.length != truncated.length) {
      throw new IllegalArgumentException(
          "vectors, rejections and truncated must have one entry per text");
    }
  }

  public int size() {
    return vectors.length;
  }

  public int truncatedCount() {
    int n = 0;
    for (boolean t : truncated) {
      if (t) {
        n++;
      }
    }
    return n;
  }

  public int rejectedCount() {
    int n = 0;
    for (String r : rejections) {
      if (r != null) {
        n++;
      }
    }
    return n;
  }

  public boolean accepted(int i) {
    return rejections[i] == null;
  }

  /** All vectors, or an {@link EmbeddingException} naming the first rejected text and why. */
  public float[][] vectorsOrThrow() {
    for (int i = 0; i < rejections.length; i++) {
      if (rejections[i] != null) {
        throw new EmbeddingException(
            "text "
                + i
                + " of "
                + rejections.length
                + " was rejected: "
                + rejections[i]
                + (rejectedCount() > 1 ? " (" + rejectedCount() + " rejected in all)" : ""));
      }
    }
    return vectors;
  }

  @Override
  public String toString() {
    return "EncodedBatch[size="
        + size()
        + ", rejected="
        + rejectedCount()
        + ", truncated="
        + truncatedCount()
        + ", tokens="
        + tokens
        + ", paddedTokens="
        + paddedTokens
        + ", rejections="
        + Arrays.toString(rejections)
        + "]";
  }
}
