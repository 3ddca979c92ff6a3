package dev.editforge.spark;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The per-executor-JVM cache of heavy resources (decoders, scorers, encoders, memory-mapped
 * indexes, HTTP clients): one instance per key, shared by every task and partition that runs there
 * (never one per partition, which would reload a multi-GB model per task). The key is a model, a
 * device and a dtype plus a variant (settings that make two instances differ, or an index's
 * manifest hash); at most one instance per (model, device, dtype) is kept: a new variant closes the
 * old instance first, so a changed setting never holds two copies of a model on one GPU and a
 * rebuilt index at the same path is reopened, not leaked.
 *
 * <p>Thread-safe: static and synchronized, so concurrent tasks load a key once (a second task waits
 * for the first one's load). Instances must themselves be thread-safe or used per task as their
 * owners document. The cache owns what it hands out: callers never close it; everything still open
 * is closed once, by a JVM shutdown hook.
 */
public final class ExecutorModelCache {
  private static final Logger LOG = LoggerFactory.getLogger(ExecutorModelCache.class);

  /** A cache key: what is loaded, where, in which dtype, with which settings. */
  public record Key(String model, String device, String dtype, String variant) {
    public Key {
      variant = variant == null ? "" : variant;
    }

    Key slot() {
      return new Key(model, device, dtype, "");
    }
  }

  /** Creates the instance of a key (called under the cache's lock, at most once per key). */
  @FunctionalInterface
  public interface Loader<T extends AutoCloseable> {
    T load() throws Exception;
  }

  private static final Map<Key, Key> SLOTS = new LinkedHashMap<>();
  private static final Map<Key, AutoCloseable> INSTANCES = new LinkedHashMap<>();
  private static final Set<Key> LOADED = new LinkedHashSet<>();
  private static boolean hookInstalled;

  private ExecutorModelCache() {}

  @SuppressWarnings("unchecked")
  public static synchronized <T extends AutoCloseable> T get(Key key, Loader<T> loader) {
    AutoCloseable existing = INSTANCES.get(key);
    if (existing != null) {
      return (T) existing;
    }
    Key previous = SLOTS.get(key.slot());
    if (previous != null) {
      LOG.info(
          "replacing cached {} on {} ({} -> {})",
          key.model(),
          key.device(),
          previous.variant(),
          key.variant());
      closeQuietly(previous, INSTANCES.remove(previous));
    }
    installHook();
    T created;
    try {
      long t0 = System.nanoTime();
      created = loader.load();
      LOG.info(
          "loaded {} on {} ({}) in {} ms",
          key.model(),
          key.device(),
          key.dtype(),
          (System.nanoTime() - t0) / 1_000_000);
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(
          "cannot load " + key.model() + " on " + key.device() + ": " + e.getMessage(), e);
    }
    if (created == null) {
      throw new IllegalStateException("the loader of " + key + " returned null");
    }
    INSTANCES.put(key, created);
    LOADED.add(key);
    SLOTS.put(key.slot(), key);
    return created;
  }

  /** Whether this JVM holds an instance of {@code key} now. */
  public static synchronized boolean holds(Key key) {
    return INSTANCES.containsKey(key);
  }

  /** Every key loaded in this JVM so far, replaced or closed ones included (tests, diagnostics). */
  public static synchronized List<Key> loaded() {
    return List.copyOf(LOADED);
  }

  /** How many instances this JVM holds now. */
  public static synchronized int size() {
    return INSTANCES.size();
  }

  /** Closes and forgets every instance (the shutdown hook; tests). */
  public static synchronized void closeAll() {
    List<Map.Entry<Key, AutoCloseable>> all = new ArrayList<>(INSTANCES.entrySet());
    INSTANCES.clear();
    SLOTS.clear();
    for (Map.Entry<Key, AutoCloseable> e : all) {
      closeQuietly(e.getKey(), e.getValue());
    }
  }

  private static void closeQuietly(Key key, AutoCloseable c) {
    if (c == null) {
      return;
    }
    try {
      c.close();
    } catch (Exception e) {
      LOG.warn("closing cached {} on {} failed: {}", key.model(), key.device(), e.toString());
    }
  }

  private static void installHook() {
    if (!hookInstalled) {
      Runtime.getRuntime()
          .addShutdownHook(new Thread(ExecutorModelCache::closeAll, "editforge-model-cache-close"));
      hookInstalled = true;
    }
  }
}
