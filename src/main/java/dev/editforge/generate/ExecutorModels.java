package dev.editforge.generate;

import dev.editforge.spark.ExecutorModelCache;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The generate stage's view of {@link ExecutorModelCache}, the per-executor-JVM cache: one
 * decoder per (model directory, device, dtype) and one HTTP client per server, shared by every
 * task and partition of the JVM. Variants are prefixed {@code generate:} so another stage's
 * instance of the same model (for example with adapters) is never handed out as a decoder here.
 * Remembers which keys it asked for, for tests and diagnostics. Thread-safe.
 */
public final class ExecutorModels {
  private static final Set<ExecutorModelCache.Key> ASKED = new LinkedHashSet<>();

  private ExecutorModels() {}

  public static <T extends AutoCloseable> T get(ExecutorModelCache.Key key, ExecutorModelCache.Loader<T> loader) {
    synchronized (ASKED) {
      ASKED.add(key);
    }
    return ExecutorModelCache.get(key, loader);
  }

  /** The decoder key of a local model. */
  public static ExecutorModelCache.Key decoder(String modelDir, String device, String dtype, int threads) {
    return new ExecutorModelCache.Key(modelDir, device, dtype, "generate:decoder threads=" + threads);
  }

  /** The keys this stage asked for in this JVM. */
  public static List<ExecutorModelCache.Key> keys() {
    synchronized (ASKED) {
      return List.copyOf(ASKED);
    }
  }
}
