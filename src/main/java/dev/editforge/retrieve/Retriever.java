package dev.editforge.retrieve;

import dev.editforge.config.RetrieveSettings;
import dev.editforge.encoders.Encoder;
import dev.editforge.lucene.DocRef;
import dev.editforge.lucene.Fusion;
import dev.editforge.lucene.IndexManifest;
import java.nio.file.Path;
import java.util.List;

/**
 * Answers queries against a sharded index in the configured mode: BM25, dense (HNSW) or hybrid
 * (both rankings, {@code candidates} deep, fused). Query vectors are made by the caller with the
 * encoder the index was built with; {@link #checkEncoder} refuses a different one before any query
 * runs.
 *
 * <p>Thread-safe. Owns its {@link ShardSet}; close once after the last query.
 */
public final class Retriever implements AutoCloseable {
  private final ShardSet shards;
  private final RetrieveSettings settings;
  private final Fusion fusion;

  public Retriever(ShardSet shards, RetrieveSettings settings) {
    this.shards = shards;
    this.settings = settings;
    this.fusion = settings.fusionFunction();
    if (settings.mode() != RetrieveSettings.Mode.BM25 && !shards.manifest().hasVectors()) {
      shards.close();
      throw new IllegalArgumentException(
          "retrieve.mode = "
              + settings.mode().name().toLowerCase()
              + " needs vectors, but the index is BM25-only");
    }
  }

  public static Retriever open(Path indexDir, RetrieveSettings settings) {
    return new Retriever(
        ShardSet.open(indexDir, settings.verifyIndex(), settings.globalBm25Stats()), settings);
  }

  public IndexManifest manifest() {
    return shards.manifest();
  }

  public ShardSet shards() {
    return shards;
  }

  public RetrieveSettings settings() {
    return settings;
  }

  /** Whether queries need a vector (dense or hybrid). */
  public boolean needsVectors() {
    return settings.mode() != RetrieveSettings.Mode.BM25;
  }

  /**
   * Refuses a query encoder that differs from the index's in model, preset or dimension: its
   * vectors would live in another space and every dense result would be noise.
   */
  public void checkEncoder(Encoder encoder) {
    IndexManifest m = shards.manifest();
    if (!m.hasVectors()) {
      return;
    }
    if (encoder.dimension() != m.dimension()) {
      throw new IllegalArgumentException(
          "query encoder "
              + encoder.modelName()
              + " makes "
              + encoder.dimension()
              + "-dimensional vectors; the index holds "
              + m.dimension());
    }
    if (!encoder.modelName().equals(m.model())) {
      throw new IllegalArgumentException(
          "query encoder is "
              + encoder.modelName()
              + " but the index was embedded with "
              + m.model());
    }
    if (m.encoderPreset() != null && !encoder.preset().name().equals(m.encoderPreset())) {
      throw new IllegalArgumentException(
          "query encoder preset is "
              + encoder.preset().name()
              + " but the index used "
              + m.encoderPreset());
    }
  }

  /**
   * Top {@link RetrieveSettings#k()} hits for one query; {@code vector} may be null in BM25 mode.
   */
  public List<Hit> search(String query, float[] vector) {
    return shards.load(searchRefs(query, vector, settings.k()));
  }

  /** The top {@code k} as references, before stored fields are read. */
  public List<DocRef> searchRefs(String query, float[] vector, int k) {
    int depth = Math.max(k, settings.candidates());
    return switch (settings.mode()) {
      case BM25 -> shards.bm25(query, k);
      case DENSE -> shards.dense(requireVector(vector), k, depth);
      case HYBRID ->
          fusion.fuse(
              shards.bm25(query, depth), shards.dense(requireVector(vector), depth, depth), k);
    };
  }

  private static float[] requireVector(float[] v) {
    if (v == null) {
      throw new IllegalArgumentException("dense and hybrid retrieval need a query vector");
    }
    return v;
  }

  @Override
  public void close() {
    shards.close();
  }
}
