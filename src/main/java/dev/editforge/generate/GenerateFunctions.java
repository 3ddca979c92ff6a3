package dev.editforge.generate;

import dev.editforge.llm.TextGenerator;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.function.BiFunction;
import java.util.function.Function;
import org.apache.spark.SparkEnv;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.util.CollectionAccumulator;
import org.apache.spark.util.LongAccumulator;

/**
 * The executor side of the generate stages: a partition of tasks becomes rows. The task binds to
 * its GPU (or the CPU), takes the executor's shared model or client, and runs its tasks in batches
 * of {@code batch-size} through a {@link BatchRunner}; rows stream out batch by batch.
 */
public final class GenerateFunctions {
  private GenerateFunctions() {}

  /** A serializable function (Spark ships it to executors). */
  public interface SFn<A, B> extends Function<A, B>, Serializable {}

  /** A serializable two-argument function. */
  public interface SBiFn<A, B, C> extends BiFunction<A, B, C>, Serializable {}

  /**
   * Sampling settings shipped to executors (SamplingParams is not serializable); the seed is per
   * task. {@code stop}: strings that end a completion (cut before them).
   */
  public record Sampling(int maxNewTokens, double temperature, double topP, List<String> stop)
      implements Serializable {
    public Sampling {
      stop = List.copyOf(stop);
    }

    public Sampling(int maxNewTokens, double temperature, double topP) {
      this(maxNewTokens, temperature, topP, List.of());
    }

    public dev.editforge.llm.SamplingParams seeded(long seed) {
      return new dev.editforge.llm.SamplingParams(
          maxNewTokens, temperature, topP, 0, 1, stop, List.of(), seed);
    }
  }

  /** Counters filled on executors and read by the driver for the manifest. */
  public record Counters(
      LongAccumulator completionTokens,
      LongAccumulator emptyRetries,
      LongAccumulator oomSplits,
      LongAccumulator failed,
      CollectionAccumulator<String> bindings)
      implements Serializable {
    public static Counters register(org.apache.spark.SparkContext sc, String prefix) {
      return new Counters(
          sc.longAccumulator(prefix + ".completion_tokens"),
          sc.longAccumulator(prefix + ".empty_retries"),
          sc.longAccumulator(prefix + ".oom_splits"),
          sc.longAccumulator(prefix + ".failed"),
          sc.collectionAccumulator(prefix + ".bindings"));
    }

    /** The distinct executor bindings, e.g. {@code executor=1 gpu_address=0 device=gpu(0)}. */
    public List<String> distinctBindings() {
      List<String> all = new ArrayList<>(new java.util.TreeSet<>(bindings.value()));
      return Collections.unmodifiableList(all);
    }
  }

  /** Turns a partition of tasks into rows through the spec's generator. */
  public static <T> FlatMapFunction<Iterator<T>, Row> partition(
      GeneratorSpec spec,
      SFn<T, BatchRunner.Job> toJob,
      SBiFn<T, BatchRunner.Outcome, Row> toRow,
      Counters counters) {
    return tasks -> {
      if (!tasks.hasNext()) {
        return Collections.emptyIterator();
      }
      dev.editforge.spark.TaskResources.Binding binding = spec.bind();
      String executor = SparkEnv.get() == null ? "driver" : SparkEnv.get().executorId();
      counters.bindings().add("executor=" + executor + " " + binding.describe());
      TextGenerator generator = spec.open(binding);
      TaskContext tc = TaskContext.get();
      if (tc != null) {
        tc.addTaskCompletionListener(
            (org.apache.spark.util.TaskCompletionListener) ctx -> generator.close());
      }
      BatchRunner runner = new BatchRunner(generator, spec.chat(), spec.emptyRetries());
      return new Iterator<Row>() {
        private Iterator<Row> current = Collections.emptyIterator();

        @Override
        public boolean hasNext() {
          while (!current.hasNext()) {
            if (!tasks.hasNext()) {
              if (tc == null) {
                generator.close();
              }
              return false;
            }
            List<T> batch = new ArrayList<>();
            while (tasks.hasNext() && batch.size() < spec.batchSize()) {
              batch.add(tasks.next());
            }
            List<BatchRunner.Job> jobs = new ArrayList<>();
            for (T t : batch) {
              jobs.add(toJob.apply(t));
            }
            BatchRunner.Stats before = snapshot(runner.stats());
            List<BatchRunner.Outcome> outcomes = runner.run(jobs);
            BatchRunner.Stats after = runner.stats();
            counters.completionTokens().add(after.completionTokens - before.completionTokens);
            counters.emptyRetries().add(after.emptyRetries - before.emptyRetries);
            counters.oomSplits().add(after.oomSplits - before.oomSplits);
            counters.failed().add(after.failed - before.failed);
            List<Row> rows = new ArrayList<>();
            for (int i = 0; i < batch.size(); i++) {
              rows.add(toRow.apply(batch.get(i), outcomes.get(i)));
            }
            current = rows.iterator();
          }
          return true;
        }

        @Override
        public Row next() {
          if (!hasNext()) {
            throw new NoSuchElementException();
          }
          return current.next();
        }
      };
    };
  }

  private static BatchRunner.Stats snapshot(BatchRunner.Stats s) {
    BatchRunner.Stats c = new BatchRunner.Stats();
    c.completionTokens = s.completionTokens;
    c.emptyRetries = s.emptyRetries;
    c.oomSplits = s.oomSplits;
    c.failed = s.failed;
    return c;
  }
}
