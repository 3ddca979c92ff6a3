package dev.editforge.ttt;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.junit.jupiter.api.Test;

/** Which ttt.device settings make score tasks ask the scheduler for a GPU. */
class ScoreGpuProfileTest {
  @Test
  void onlyAnExplicitGpuDeviceAsksForAGpu() {
    assertEquals(1.0, ScoreJob.gpusPerTask("gpu"));
    assertEquals(1.0, ScoreJob.gpusPerTask("gpu:1"));
    assertEquals(0.0, ScoreJob.gpusPerTask("cpu"));
    assertEquals(0.0, ScoreJob.gpusPerTask("auto"));
  }
}
