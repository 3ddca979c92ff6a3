package dev.editforge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.CliRun;
import dev.editforge.spark.PipelineStage;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bench demo} end to end on a tiny model of the same family (the whole demo runs, so this is
 * an IT): every stage's wall time is on its BENCH line, as a number, and they add up to no more
 * than the total.
 */
class DemoBenchIT {
  @Test
  void everyStagesTimeIsOnTheBenchLine(@TempDir Path dir) {
    CliRun r =
        CliRun.of(
            "bench",
            "demo",
            "--param",
            "dir=" + dir,
            "--param",
            "hidden=64",
            "--param",
            "layers=2",
            "--param",
            "heads=4",
            "--param",
            "kv-heads=2",
            "--param",
            "intermediate=128",
            "--param",
            "vocab=2048");
    assertEquals(0, r.exitCode(), r.toString());
    String line =
        r.out().lines().filter(l -> l.startsWith("BENCH demo ")).reduce((a, b) -> b).orElseThrow();
    Map<String, Double> fields = new LinkedHashMap<>();
    for (String kv : line.substring("BENCH demo ".length()).split(" ")) {
      String[] p = kv.split("=", 2);
      fields.put(p[0], Double.parseDouble(p[1]));
    }
    double stages = 0;
    for (PipelineStage stage : Pipeline.stages()) {
      Double s = fields.get(stage.name() + "_s");
      assertTrue(s != null && s >= 0, stage.name() + " missing from " + line);
      stages += s;
    }
    assertTrue(stages <= fields.get("total_s") + 0.5, line);
    assertTrue(fields.get("other_s") >= -0.5, line);
    assertEquals(
        DemoBenchRunner.parameters(
            DemoBenchRunner.qwenShapes(
                Map.of(
                    "hidden",
                    "64",
                    "layers",
                    "2",
                    "heads",
                    "4",
                    "kv-heads",
                    "2",
                    "intermediate",
                    "128",
                    "vocab",
                    "2048"))),
        fields.get("parameters").longValue());
  }
}
