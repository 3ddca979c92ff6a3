package dev.editforge.spark;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One instance of an expensive resource (an encoder, a memory-mapped index) per executor JVM,
 * shared by every task that runs there, never opened per task or partition. Entries live in
 * groups: a group (e.g. an index path) holds one key at a time (e.g. that index's manifest hash),
 * so asking for a new key closes the group's previous value — a rebuilt index at the same path
 * is reopened, and the old one is not leaked. Everything still open is closed at JVM exit.
 *
 * <p>Thread-safe: static and synchronized, so concurrent tasks open a value once. Values must
 * themselves be thread-safe; the cache owns them (callers never close what they get).
 */
public final class ExecutorCache {
  private static final Logger LOG = LoggerFactory.getLogger(ExecutorCache.class);

  private record Entry(String key, Object value) {}

  private static final Map<String, Entry> ENTRIES = new HashMap<>();
  private static boolean hookInstalled;

  private ExecutorCache() {}

  /** The group's value for {@code key}, opening it (and closing the group's previous one) when absent. */
  @SuppressWarnings("unchecked")
  public static synchronized <T> T get(String group, String key, Supplier<T> open) {
    Entry e = ENTRIES.get(group);
    if (e != null && e.key().equals(key)) {
      return (T) e.value();
    }
    if (e != null) {
      ENTRIES.remove(group);
      closeQuietly(group, e.value());
    }
    T value = open.get();
    ENTRIES.put(group, new Entry(key, value));
    installHook();
    return value;
  }

  /** Closes and forgets the group's value, if any. */
  public static synchronized void evict(String group) {
    Entry e = ENTRIES.remove(group);
    if (e != null) {
      closeQuietly(group, e.value());
    }
  }

  /** Whether the group currently holds {@code key} (for tests and logs). */
  public static synchronized boolean holds(String group, String key) {
    Entry e = ENTRIES.get(group);
    return e != null && e.key().equals(key);
  }

  private static void installHook() {
    if (hookInstalled) {
      return;
    }
    hookInstalled = true;
    Runtime.getRuntime().addShutdownHook(new Thread(ExecutorCache::closeAll, "editforge-executor-cache-close"));
  }

  static synchronized void closeAll() {
    List<Map.Entry<String, Entry>> all = new ArrayList<>(ENTRIES.entrySet());
    ENTRIES.clear();
    for (Map.Entry<String, Entry> e : all) {
      closeQuietly(e.getKey(), e.getValue().value());
    }
  }

  private static void closeQuietly(String group, Object value) {
    if (value instanceof AutoCloseable c) {
      try {
        c.close();
      } catch (Exception ex) {
        LOG.warn("closing cached {} failed: {}", group, ex.toString());
      }
    }
  }
}
