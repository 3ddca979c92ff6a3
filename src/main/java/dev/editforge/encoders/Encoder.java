package dev.editforge.encoders;

import java.util.List;

/**
 * Turns texts into dense vectors. Results come back in input order, one per text; a text that
 * cannot be embedded (empty, or producing a non-finite vector) is reported in the batch, never
 * silently dropped. Implementations say in their javadoc whether they are thread-safe; the owner
 * closes them.
 */
public interface Encoder extends AutoCloseable {

  /** Which side of retrieval a text is on: presets put different prefixes on each. */
  enum Role {
    PASSAGE,
    QUERY
  }

  /** Embeds texts as {@code role}; rejected texts have a reason instead of a vector. */
  EncodedBatch encode(List<String> texts, Role role);

  /** Embeds passages; any rejected text makes it throw {@link EmbeddingException}. */
  default float[][] embedPassages(List<String> texts) {
    return encode(texts, Role.PASSAGE).vectorsOrThrow();
  }

  /** Embeds queries; any rejected text makes it throw {@link EmbeddingException}. */
  default float[][] embedQueries(List<String> texts) {
    return encode(texts, Role.QUERY).vectorsOrThrow();
  }

  /** Length of every vector this encoder returns. */
  int dimension();

  /** How its vectors must be compared (and indexed). */
  default VectorSimilarity similarity() {
    return preset().similarity();
  }

  /** A name for manifests and the {@code model} column. */
  String modelName();

  EncoderPreset preset();

  /** Longest token sequence fed to the model, special tokens included; longer texts are cut. */
  int maxLength();

  @Override
  void close();
}
