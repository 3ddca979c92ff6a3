package dev.editforge.spark;

import ai.djl.Device;
import ai.djl.engine.Engine;
import java.util.List;
import java.util.Map;
import org.apache.spark.TaskContext;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.Function;
import org.apache.spark.resource.ResourceInformation;
import org.apache.spark.resource.ResourceProfile;
import org.apache.spark.resource.ResourceProfileBuilder;
import org.apache.spark.resource.TaskResourceRequests;
import org.apache.spark.sql.SparkSession;

/**
 * Runs one piece of work (training, an evaluation) as a single Spark task, so a GPU job is just
 * another stage of the application an Airflow DAG submits: {@code parallelize([1], 1).map(work)}.
 * With {@code gpus > 0} the stage carries a stage-level {@link ResourceProfile} asking for that
 * many GPUs per task (Spark 3.4+ task resource profiles: standalone, YARN and Kubernetes; under
 * a {@code local} master there is no GPU scheduling and the profile is left off). Inside the
 * task, {@link #device} binds the GPU Spark assigned.
 */
public final class SingleTask {
  private SingleTask() {}

  /** Runs {@code work} in one task and returns its result to the driver. */
  public static <T> T run(SparkSession spark, int gpus, String description, Function<Integer, T> work,
      java.util.function.Consumer<String> log) {
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(spark.sparkContext());
    spark.sparkContext().setJobDescription(description);
    JavaRDD<Integer> one = jsc.parallelize(List.of(1), 1);
    if (gpus > 0) {
      if (spark.sparkContext().master().startsWith("local")) {
        log.accept(description + ": local master, no GPU scheduling; the task uses the first visible GPU if any");
      } else {
        TaskResourceRequests task = new TaskResourceRequests().cpus(1).resource("gpu", gpus);
        ResourceProfile profile = new ResourceProfileBuilder().require(task).build();
        one = one.withResources(profile);
      }
    }
    List<T> out = one.map(work).collect();
    return out.get(0);
  }

  /**
   * The device for this task: the first GPU Spark assigned ({@code TaskContext.resources()}),
   * else, when GPUs were asked for, the first visible GPU, else the CPU.
   */
  public static Device device(int gpus) {
    TaskContext tc = TaskContext.get();
    if (tc != null) {
      Map<String, ResourceInformation> res = scala.collection.JavaConverters.mapAsJavaMap(tc.resources());
      ResourceInformation gpu = res.get("gpu");
      if (gpu != null && gpu.addresses().length > 0) {
        return Device.gpu(Integer.parseInt(gpu.addresses()[0].trim()));
      }
    }
    if (gpus > 0 && Engine.getEngine("PyTorch").getGpuCount() > 0) {
      return Device.gpu(0);
    }
    return Device.cpu();
  }
}
