package dev.editforge.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.TestSpark;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.IntStream;
import org.apache.spark.api.java.JavaSparkContext;
import org.junit.jupiter.api.Test;

class ExecutorModelCacheTest {
  static final AtomicInteger LOADS = new AtomicInteger();
  static final AtomicInteger CLOSES = new AtomicInteger();

  static final class Model implements AutoCloseable {
    final int serial = LOADS.incrementAndGet();

    @Override
    public void close() {
      CLOSES.incrementAndGet();
    }
  }

  @Test
  void oneInstancePerJvmAcrossTasksAndPartitions() {
    int before = LOADS.get();
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(TestSpark.session().sparkContext());
    List<Integer> seen =
        jsc.parallelize(IntStream.range(0, 12).boxed().toList(), 6)
            .map(
                i -> {
                  Model m =
                      ExecutorModelCache.get(
                          new ExecutorModelCache.Key("cache-test", "cpu", "float32", "v1"),
                          Model::new);
                  Thread.sleep(20);
                  return System.identityHashCode(m);
                })
            .collect();
    assertEquals(12, seen.size());
    assertEquals(
        1, seen.stream().distinct().count(), "6 partitions on 2 task threads share one instance");
    assertEquals(before + 1, LOADS.get(), "the loader ran once");
  }

  @Test
  void aNewVariantReplacesAndClosesTheOldInstanceOfTheSameModelAndDevice() {
    var k1 = new ExecutorModelCache.Key("variant-test", "cpu", "float32", "a");
    var k2 = new ExecutorModelCache.Key("variant-test", "cpu", "float32", "b");
    var other = new ExecutorModelCache.Key("variant-test", "gpu:1", "float32", "a");
    Model a = ExecutorModelCache.get(k1, Model::new);
    Model onGpu = ExecutorModelCache.get(other, Model::new);
    assertSame(a, ExecutorModelCache.get(k1, Model::new));
    int closes = CLOSES.get();
    Model b = ExecutorModelCache.get(k2, Model::new);
    assertNotSame(a, b);
    assertEquals(closes + 1, CLOSES.get(), "the old variant was closed");
    assertSame(
        onGpu, ExecutorModelCache.get(other, Model::new), "another device keeps its own instance");
    assertTrue(ExecutorModelCache.size() >= 2);
  }

  static final class Res implements AutoCloseable {
    final AtomicInteger closed = new AtomicInteger();

    @Override
    public void close() {
      closed.incrementAndGet();
    }
  }

  @Test
  void concurrentThreadsLoadOneInstanceAndANewVariantClosesTheOldOne() throws Exception {
    String model = "index:test-" + System.nanoTime();
    var v1 = new ExecutorModelCache.Key(model, "local", "-", "v1");
    var v2 = new ExecutorModelCache.Key(model, "local", "-", "v2");
    AtomicInteger opened = new AtomicInteger();
    ExecutorService pool = Executors.newFixedThreadPool(8);
    CountDownLatch start = new CountDownLatch(1);
    try {
      List<Future<Res>> got = new ArrayList<>();
      for (int i = 0; i < 16; i++) {
        got.add(
            pool.submit(
                () -> {
                  start.await();
                  return ExecutorModelCache.get(
                      v1,
                      () -> {
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
      assertEquals(1, opened.get(), "one instance per JVM, whatever the number of threads");
      assertTrue(ExecutorModelCache.holds(v1));

      Res second = ExecutorModelCache.get(v2, Res::new);
      assertEquals(1, first.closed.get(), "the replaced instance is closed");
      assertEquals(0, second.closed.get());
      assertFalse(ExecutorModelCache.holds(v1));
      assertTrue(
          ExecutorModelCache.loaded().containsAll(List.of(v1, v2)),
          "replaced keys stay in the history");
    } finally {
      pool.shutdownNow();
    }
  }
}
