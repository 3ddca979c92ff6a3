package dev.editforge.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class ExecutorCacheTest {
  static final class Res implements AutoCloseable {
    final AtomicInteger closed = new AtomicInteger();

    @Override
    public void close() {
      closed.incrementAndGet();
    }
  }

  @Test
  void concurrentTasksOpenOneInstanceAndANewKeyClosesTheOldOne() throws Exception {
    String group = "test:" + System.nanoTime();
    AtomicInteger opened = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(8);
    CountDownLatch start = new CountDownLatch(1);
    try {
      java.util.List<Future<Res>> got = new java.util.ArrayList<>();
      for (int i = 0; i < 16; i++) {
        got.add(pool.submit(() -> {
          start.await();
          return ExecutorCache.get(group, "v1", () -> {
            opened.incrementAndGet();
            return new Res();
          });
        }));
      }
      start.countDown();
      Res first = got.get(0).get(10, TimeUnit.SECONDS);
      for (Future<Res> f : got) {
        assertSame(first, f.get(10, TimeUnit.SECONDS));
      }
      assertEquals(1, opened.get(), "one instance per JVM, whatever the number of tasks");
      assertTrue(ExecutorCache.holds(group, "v1"));

      Res second = ExecutorCache.get(group, "v2", Res::new);
      assertEquals(1, first.closed.get(), "the replaced value is closed");
      assertEquals(0, second.closed.get());
      assertFalse(ExecutorCache.holds(group, "v1"));
      ExecutorCache.evict(group);
      assertEquals(1, second.closed.get());
    } finally {
      pool.shutdownNow();
    }
  }
}
