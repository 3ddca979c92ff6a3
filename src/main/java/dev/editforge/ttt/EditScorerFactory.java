package dev.editforge.ttt;

import java.io.Serializable;

/**
 * Builds the {@link EditScorer} of one executor JVM. It is serialized into the score tasks and
 * called at most once per JVM and cache key ({@link #model()}, the device, {@link #dtype()}, {@link
 * #variant()}) through {@link dev.editforge.spark.ExecutorModelCache}; the cache owns and closes
 * what it returns. Implementations carry only settings (no loaded model), so they are cheap to
 * ship.
 */
public interface EditScorerFactory extends Serializable {
  /** The base model (hub id or local directory); part of the cache key. */
  String model();

  /** The dtype the model is loaded in; part of the cache key. */
  default String dtype() {
    return "float32";
  }

  /**
   * Anything else that makes two scorers of the same model differ (e.g. a hash of the TTT and judge
   * settings); part of the cache key, so a changed setting never reuses a stale scorer.
   */
  default String variant() {
    return "";
  }

  /** Whether {@link EditScorer#score} may be called by several task threads at once. */
  default boolean threadSafe() {
    return false;
  }

  /** Loads the scorer on {@code device} (the task's GPU, or the CPU). */
  EditScorer create(ScoreDevice device) throws Exception;

  /**
   * The device the scorer actually uses, for the logs and the manifest (default: the one asked
   * for).
   */
  default String deviceUsed(EditScorer scorer, ScoreDevice requested) {
    return requested.name();
  }
}
