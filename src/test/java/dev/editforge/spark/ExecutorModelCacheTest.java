package dev.editforge.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotSame;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.TestSpark;
import java.util.List;
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
    List<Integer> seen = jsc.parallelize(IntStream.range(0, 12).boxed().toList(), 6)
        .map(i -> {
          Model m = ExecutorModelCache.get(new ExecutorModelCache.Key("cache-test", "cpu", "float32", "v1"), Model::new);
          Thread.sleep(20);
          return System.identityHashCode(m);
        }).collect();
    assertEquals(12, seen.size());
    assertEquals(1, seen.stream().distinct().count(), "6 partitions on 2 task threads share one instance");
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
    assertSame(onGpu, ExecutorModelCache.get(other, Model::new), "another device keeps its own instance");
    assertTrue(ExecutorModelCache.size() >= 2);
  }
}
