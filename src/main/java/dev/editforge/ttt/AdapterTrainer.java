package dev.editforge.ttt;

import java.io.Serializable;
import java.util.List;

/**
 * Trains the inner LoRA adapter of one (edit, repeat) and saves it in PEFT layout ({@code
 * adapter_config.json} + {@code adapter_model.safetensors}) at a path the vLLM server can read —
 * what SEAL's server mode needs from the LoRA trainer. Used by {@link VllmEditScorer}.
 */
public interface AdapterTrainer extends AutoCloseable {
  /** A saved adapter: its directory and how many tokens it was trained on. */
  record Adapter(String path, long trainTokens) {}

  /** Trains on {@code sequences} (SEAL's train sequences of the edit) with {@code seed}. */
  Adapter train(List<String> sequences, long seed) throws Exception;

  /** Deletes a saved adapter once the server has unloaded it. */
  default void discard(Adapter adapter) {}

  @Override
  default void close() {}

  /** Builds the trainer of one executor JVM on the task's device (shipped to executors). */
  @FunctionalInterface
  interface Factory extends Serializable {
    AdapterTrainer create(ScoreDevice device) throws Exception;
  }
}
