package dev.editforge.ttt;

import dev.editforge.spark.TaskResources;
import java.io.Serializable;
import java.util.List;

/**
 * The device a task's scorer runs on, derived from {@code editforge.ttt.device} and the GPU
 * addresses Spark assigned to the task ({@link TaskResources#gpuAddresses()}).
 *
 * @param type {@code cpu} or {@code gpu}
 * @param gpu the GPU index / address to bind to (null on CPU)
 * @param assigned the GPU addresses Spark assigned to the task (empty without GPU scheduling)
 * @param cpus the task's CPU cores ({@code spark.task.cpus}; 1 outside a task): size engine
 *     intra-op threads to it, so threads x concurrent tasks stay within the executor's cores
 */
public record ScoreDevice(String type, String gpu, List<String> assigned, int cpus)
    implements Serializable {
  public ScoreDevice {
    assigned = List.copyOf(assigned);
    cpus = Math.max(1, cpus);
  }

  public static ScoreDevice cpu(List<String> assigned) {
    return new ScoreDevice("cpu", null, assigned, TaskResources.cpus());
  }

  public boolean isGpu() {
    return "gpu".equals(type);
  }

  /** {@code cpu} or {@code gpu:<address>}; part of the per-JVM model cache key. */
  public String name() {
    return isGpu() ? "gpu:" + gpu : "cpu";
  }

  /**
   * Resolves the setting against the current task's assignment: {@code auto} takes the first
   * assigned GPU, else CPU; {@code gpu} requires an assigned GPU; {@code gpu:N} is explicit (local
   * mode on a GPU box, where Spark assigns nothing); {@code cpu} ignores any assignment.
   */
  public static ScoreDevice resolve(String setting, List<String> assigned) {
    if (setting.startsWith("gpu:")) {
      return new ScoreDevice("gpu", setting.substring(4), assigned, TaskResources.cpus());
    }
    switch (setting) {
      case "cpu":
        return cpu(assigned);
      case "gpu":
        if (assigned.isEmpty()) {
          throw new IllegalStateException(
              "editforge.ttt.device = gpu but Spark assigned no GPU to this task; "
                  + "set spark.executor.resource.gpu.amount / spark.task.resource.gpu.amount (and a discovery script), "
                  + "or use device = auto or gpu:N");
        }
        return new ScoreDevice("gpu", assigned.get(0), assigned, TaskResources.cpus());
      case "auto":
        return assigned.isEmpty()
            ? cpu(assigned)
            : new ScoreDevice("gpu", assigned.get(0), assigned, TaskResources.cpus());
      default:
        throw new IllegalArgumentException("unknown device setting " + setting);
    }
  }
}
