package dev.editforge.spark;

import ai.djl.Device;
import ai.djl.engine.Engine;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicBoolean;
import org.apache.spark.TaskContext;
import org.apache.spark.resource.ResourceInformation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * What Spark gave the running task, and the one place that reads it: its GPUs (from {@code
 * TaskContext.resources()}, so a model binds to the assigned address, not to "GPU 0") and its cores
 * ({@code spark.task.cpus}), which size engine threads so threads x concurrent tasks never exceed
 * the executor's cores. Outside a task (the driver) there is no GPU assignment and one core.
 *
 * <p>Thread-safe: stateless apart from the once-per-JVM CPU fallback warning.
 */
public final class TaskResources {
  private static final Logger LOG = LoggerFactory.getLogger(TaskResources.class);
  private static final AtomicBoolean CPU_FALLBACK_WARNED = new AtomicBoolean();

  private TaskResources() {}

  /** Where a task's model runs: the GPU address Spark assigned (or null) and the device used. */
  public record Binding(String gpuAddress, Device device) {
    public String describe() {
      return "gpu_address=" + (gpuAddress == null ? "none" : gpuAddress) + " device=" + device;
    }
  }

  /**
   * The GPU addresses Spark assigned to the running task; empty outside a task or without GPU
   * scheduling.
   */
  public static List<String> gpuAddresses() {
    TaskContext tc = TaskContext.get();
    if (tc == null) {
      return List.of();
    }
    Map<String, ResourceInformation> res = tc.resourcesJMap();
    ResourceInformation gpu = res == null ? null : res.get("gpu");
    return gpu == null ? List.of() : List.of(gpu.addresses());
  }

  /** The first GPU address Spark assigned to this task, if any and numeric. */
  public static Optional<Integer> gpu() {
    List<String> addresses = gpuAddresses();
    if (addresses.isEmpty()) {
      return Optional.empty();
    }
    try {
      return Optional.of(Integer.parseInt(addresses.get(0).trim()));
    } catch (NumberFormatException e) {
      return Optional.empty();
    }
  }

  /**
   * The device this task's model should bind to: the first GPU address Spark assigned when CUDA can
   * use it; with no assignment but {@code wantsGpu} (a local master, where Spark schedules no
   * GPUs), the first visible GPU; otherwise the CPU. Falling back to the CPU although a GPU was
   * assigned or asked for logs one warning per JVM, naming {@code who}.
   */
  public static Binding bind(boolean wantsGpu, String who) {
    List<String> addresses = gpuAddresses();
    String address = addresses.isEmpty() ? null : addresses.get(0);
    if (address == null && !wantsGpu) {
      return new Binding(null, Device.cpu());
    }
    return new Binding(address, usableDevice(address, who));
  }

  /**
   * The device a model given GPU {@code address} (null: none assigned, take the first visible) runs
   * on: that GPU when CUDA can use it, otherwise the CPU, with one warning per JVM naming {@code
   * who} — a fake or unusable GPU (no CUDA libtorch on the executor) degrades to the CPU rather
   * than failing every task.
   */
  public static Device usableDevice(String address, String who) {
    int gpus;
    try {
      gpus = Engine.getEngine("PyTorch").getGpuCount();
    } catch (RuntimeException e) {
      gpus = 0;
    }
    if (gpus > 0) {
      int index = 0;
      if (address != null) {
        try {
          index = Integer.parseInt(address.trim());
        } catch (NumberFormatException e) {
          index = -1;
        }
      }
      if (index >= 0 && index < gpus) {
        return Device.gpu(index);
      }
    }
    if (CPU_FALLBACK_WARNED.compareAndSet(false, true)) {
      LOG.warn(
          "{}: GPU {} was {} but CUDA is not usable here (libtorch sees {} GPUs); the model runs on the CPU",
          who,
          address == null ? "(none assigned)" : address,
          address == null ? "asked for" : "assigned",
          gpus);
    }
    return Device.cpu();
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
