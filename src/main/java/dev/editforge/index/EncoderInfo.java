package dev.editforge.index;

import dev.editforge.config.IndexSettings;
import dev.editforge.encoders.Encoder;
import dev.editforge.encoders.VectorSimilarity;

/**
 * What an index needs to know about the encoder that produced its vectors, and what a searcher
 * checks its query encoder against.
 */
public record EncoderInfo(String model, String preset, int dimension, VectorSimilarity similarity) {

  /** The encoder's identity, with the index similarity resolved against the settings. */
  public static EncoderInfo of(Encoder encoder, IndexSettings settings) {
    VectorSimilarity sim =
        settings.resolveSimilarity(encoder.similarity(), encoder.preset().normalize());
    return new EncoderInfo(encoder.modelName(), encoder.preset().name(), encoder.dimension(), sim);
  }
}
