package dev.editforge.spark;

import ai.djl.Device;
import java.util.HashMap;
import java.util.List;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.resource.ResourceProfile;
import org.apache.spark.sql.SparkSession;

/**
 * Runs one piece of work (training, an evaluation) as a single Spark task, so a GPU job is just
 * another stage of the application an Airflow DAG submits: {@code parallelize([1], 1).map(work)}.
 * With {@code gpus > 0} the stage carries the {@link GpuProfiles} profile asking for that many GPUs
 * per task (left off under a {@code local} master). Inside the task, {@link #device} binds the GPU
 * Spark assigned.
 */
public final class SingleTask {
  private SingleTask() {}

  /** Runs {@code work} in one task and returns its result to the driver. */
  public static <T> T run(
      SparkSession spark,
      int gpus,
      String description,
      Function<Integer, T> work,
      java.util.function.Consumer<String> log) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    spark.sparkContext().setJobDescription(description);
    JavaRDD<Integer> one = jsc.parallelize(List.of(1), 1);
    ResourceProfile profile = GpuProfiles.forTasks(spark, gpus, description, new HashMap<>(), log);
    if (profile != null) {
      one = one.withResources(profile);
    }
    List<T> out = one.map(work).collect();
    return out.get(0);
  }

  /** The device for this task's model ({@link TaskResources#bind}). */
  public static Device device(int gpus) {
    return TaskResources.bind(gpus > 0, "task").device();
  }
}
