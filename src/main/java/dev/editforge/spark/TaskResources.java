package dev.editforge.spark;

import java.util.Map;
import java.util.Optional;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;

/**
 * What Spark gave the running task: its GPU (from {@code TaskContext.resources()}, so a model
 * binds to the assigned address, not to "GPU 0") and its cores ({@code spark.task.cpus}), which
 * size engine threads so threads x concurrent tasks never exceed the executor's cores. Outside a
 * task (the driver) there is no GPU assignment and one core.
 */
public final class TaskResources {
  private TaskResources() {}

  /** The first GPU address Spark assigned to this task, if any. */
  public static Optional<Integer> gpu() {
    TaskContext tc = TaskContext.get();
    if (tc == null) {
      return Optional.empty();
    }
    Map<String, ResourceInformation> res = tc.resourcesJMap();
    ResourceInformation gpu = res == null ? null : res.get("gpu");
    if (gpu == null || gpu.addresses().length == 0) {
      return Optional.empty();
    }
    try {
      return Optional.of(Integer.parseInt(gpu.addresses()[0].trim()));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  /** Cores of this task ({@code spark.task.cpus}); 1 outside a task. */
  public static int cpus() {
    TaskContext tc = TaskContext.get();
    return tc == null ? 1 : Math.max(1, tc.cpus());
  }

  /** Engine threads for a model in this task: the configured count, or (0) the task's cores. */
  public static int engineThreads(int configured) {
    return configured > 0 ? configured : cpus();
  }
}
