package dev.editforge.spark;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;

import dev.editforge.config.ConfigLoader;
import dev.editforge.config.EditforgeSettings;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The GPU part of conf/cluster.conf: executors own a GPU, but only GPU stages' tasks ask for one
 * (no global task amount), and the discovery script is referenced relative to the executor's
 * working directory, where the shipped file lands, not by a path only the submitting host has.
 */
class ClusterConfGpuTest {
  @Test
  void clusterConfHoldsNoGpuForCpuTasksAndFindsTheShippedScript() {
    Map<String, String> conf =
        EditforgeSettings.from(ConfigLoader.load(Path.of("conf/cluster.conf"), List.of()))
            .spark()
            .conf();
    assertEquals("1", conf.get("spark.executor.resource.gpu.amount"));
    assertFalse(
        conf.containsKey("spark.task.resource.gpu.amount"),
        "a global task GPU amount makes ingest/index/select tasks hold a GPU: " + conf);
    assertEquals("./gpu-discovery.sh", conf.get("spark.executor.resource.gpu.discoveryScript"));
    String libtorch = System.getenv("PYTORCH_LIBRARY_PATH");
    assertEquals(libtorch, conf.get("spark.executorEnv.PYTORCH_LIBRARY_PATH"));
  }
}
