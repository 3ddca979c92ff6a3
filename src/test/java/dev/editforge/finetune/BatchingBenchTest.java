package dev.editforge.finetune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.CliRun;
import dev.editforge.io.SftRow;
import java.util.List;
import org.junit.jupiter.api.Test;

/** {@code bench batching} prints the four modes and one BENCH line whose numbers hang together. */
class BatchingBenchTest {
  @Test
  void bundledInstructionRowsParseIntoPromptAndCompletion() {
    List<SftRow> rows = BatchingBench.sample();
    assertEquals(16, rows.size());
    assertEquals("Convert 5 miles to kilometres.", rows.get(0).prompt());
    assertTrue(rows.get(0).completion().startsWith("5 miles is about 8.05"));
  }

  @Test
  void benchPrintsEveryModeAndOneBenchLine() {
    CliRun run =
        CliRun.of(
            "bench",
            "batching",
            "--param",
            "steps=2",
            "--param",
            "hidden=32",
            "--param",
            "max-length=64",
            "--param",
            "threads=1");
    assertEquals(0, run.exitCode(), run.toString());
    String[] lines = run.out().strip().split("\n");
    String bench = lines[lines.length - 1];
    assertTrue(bench.startsWith("BENCH batching model=gpt2 "), bench);
    for (String mode : List.of("padding", "packed", "concat", "bfd")) {
      assertTrue(run.out().contains("\n" + mode + " "), mode + " row in\n" + run.out());
      assertTrue(bench.contains(" " + mode + "_tokens_per_s="), bench);
      assertTrue(bench.contains(" " + mode + "_val_loss="), bench);
    }
    assertTrue(bench.contains(" padding_speedup=1 "), bench);
    // packing fills rows with real tokens: far less padding than one sample per row
    assertTrue(
        value(bench, "packed_padding_fraction") < value(bench, "padding_padding_fraction"), bench);
  }

  private static double value(String bench, String key) {
    for (String kv : bench.split(" ")) {
      if (kv.startsWith(key + "=")) {
        return Double.parseDouble(kv.substring(key.length() + 1));
      }
    }
    throw new AssertionError(key + " not in " + bench);
  }
}
