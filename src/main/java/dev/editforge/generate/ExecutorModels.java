package dev.editforge.generate;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The generate stage's per-executor-JVM holder of loaded decoders and HTTP clients: one instance
 * per key (model, device, dtype, threads / server settings), shared by every task and partition
 * of the JVM, closed by a shutdown hook. A minimal stand-in for {@code spark.ExecutorModelCache}
 * (branch score), whose {@code get(key, loader)} shape it mirrors so the two can be unified.
 * Thread-safe: creation is synchronized, so a second task waits for the first one's load.
 */
public final class ExecutorModels {
  private static final Logger LOG = LoggerFactory.getLogger(ExecutorModels.class);
  private static final Map<String, AutoCloseable> INSTANCES = new LinkedHashMap<>();
  private static boolean hookInstalled;

  /** Creates the instance of a key, at most once per key and JVM. */
  @FunctionalInterface
  public interface Loader<T extends AutoCloseable> {
    T load() throws Exception;
  }

  private ExecutorModels() {}

  @SuppressWarnings("unchecked")
  public static synchronized <T extends AutoCloseable> T get(String key, Loader<T> loader) {
    AutoCloseable existing = INSTANCES.get(key);
    if (existing != null) {
      return (T) existing;
    }
    if (!hookInstalled) {
      Runtime.getRuntime().addShutdownHook(new Thread(ExecutorModels::closeAll, "editforge-generate-models-close"));
      hookInstalled = true;
    }
    long t0 = System.nanoTime();
    T created;
    try {
      created = loader.load();
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException("cannot load " + key + ": " + e.getMessage(), e);
    }
    LOG.info("generate: loaded {} in {} ms", key, (System.nanoTime() - t0) / 1_000_000);
    INSTANCES.put(key, created);
    return created;
  }

  /** How many instances this JVM holds (tests: one per model and device, whatever the partitions). */
  public static synchronized int size() {
    return INSTANCES.size();
  }

  /** The keys held now (tests, diagnostics). */
  public static synchronized List<String> keys() {
    return List.copyOf(INSTANCES.keySet());
  }

  public static synchronized void closeAll() {
    List<AutoCloseable> all = new ArrayList<>(INSTANCES.values());
    INSTANCES.clear();
    for (AutoCloseable c : all) {
      try {
        c.close();
      } catch (Exception e) {
        LOG.warn("generate: closing a cached model failed: {}", e.toString());
      }
    }
  }
}
