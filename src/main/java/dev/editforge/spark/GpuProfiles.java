package dev.editforge.spark;

import java.util.Map;
import java.util.function.Consumer;
import org.apache.spark.resource.ResourceProfile;
import org.apache.spark.resource.ResourceProfileBuilder;
import org.apache.spark.resource.TaskResourceRequests;
import org.apache.spark.sql.SparkSession;

/**
 * The stage-level {@link ResourceProfile} of GPU stages (Spark 3.4+ task resource profiles:
 * standalone, YARN and Kubernetes). Under a {@code local} master Spark has no stage-level
 * scheduling, so there is no profile and the task binds to a usable GPU itself ({@link
 * TaskResources#bind}). Stateless and thread-safe.
 */
public final class GpuProfiles {
  private GpuProfiles() {}

  /**
   * The profile asking for {@code gpusPerTask} GPUs and one CPU per task; null for CPU ({@code
   * gpusPerTask <= 0}) and local masters. Puts what was done under {@code resource_profile} in
   * {@code note} (the stage manifest) and tells {@code log} when GPUs were asked for but a local
   * master cannot schedule them; {@code who} names the stage in that line.
   */
  public static ResourceProfile forTasks(
      SparkSession spark,
      double gpusPerTask,
      String who,
      Map<String, Object> note,
      Consumer<String> log) {
    if (gpusPerTask <= 0) {
      note.put("resource_profile", "none (gpus-per-task = 0: CPU)");
      return null;
    }
    String master = spark.sparkContext().master();
    if (master.startsWith("local")) {
      note.put("resource_profile", "none (master " + master + " has no stage-level scheduling)");
      log.accept(
          who
              + ": gpus-per-task = "
              + gpusPerTask
              + " but master "
              + master
              + " has no stage-level scheduling; tasks run without a GPU profile and bind to a usable GPU if any");
      return null;
    }
    TaskResourceRequests task = new TaskResourceRequests().cpus(1).resource("gpu", gpusPerTask);
    ResourceProfile rp = new ResourceProfileBuilder().require(task).build();
    note.put("resource_profile", "id " + rp.id() + ": task gpu = " + gpusPerTask + ", cpus = 1");
    return rp;
  }
}
