package dev.editforge.ttt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.CliRun;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** {@code bench ttt} at a tiny size: its BENCH line carries every field, each a finite number. */
class TttBenchTest {
  @Test
  void benchLineHasEveryFieldFinite() {
    ByteArrayOutputStream buf = new ByteArrayOutputStream();
    int rc =
        TttBench.run(
            new PrintStream(buf, true, StandardCharsets.UTF_8),
            Map.of("edits", "2", "epochs", "1", "tokens", "3", "rounds", "1", "matmul", "64"));
    assertEquals(0, rc);
    String text = buf.toString(StandardCharsets.UTF_8);
    String line =
        text.lines()
            .filter(l -> l.startsWith("BENCH ttt "))
            .findFirst()
            .orElseThrow(() -> new AssertionError("no BENCH line in:\n" + text));
    Map<String, Double> fields = new LinkedHashMap<>();
    for (String kv : line.substring("BENCH ttt ".length()).split(" ")) {
      String[] p = kv.split("=", 2);
      fields.put(p[0], Double.parseDouble(p[1]));
    }
    assertEquals(
        List.of(
            "multi_vs_single",
            "edits_per_min_multi",
            "edits_per_min_single",
            "train_mfu",
            "concurrent_2_vs_1",
            "answer_tok_s"),
        List.copyOf(fields.keySet()),
        line);
    for (Map.Entry<String, Double> e : fields.entrySet()) {
      assertTrue(Double.isFinite(e.getValue()) && e.getValue() > 0, line);
    }
  }

  @Test
  void unknownOrBadParametersAreRefused() {
    assertThrows(IllegalArgumentException.class, () -> TttBench.checkParams(Map.of("edit", "2")));
    assertThrows(IllegalArgumentException.class, () -> TttBench.checkParams(Map.of("edits", "1")));
    TttBench.checkParams(Map.of("edits", "4", "rounds", "1"));
  }

  @Test
  void cliRefusesABadParameterWithExitTwo() {
    CliRun r = CliRun.of("bench", "ttt", "--param", "edits=1");
    assertEquals(2, r.exitCode(), r.toString());
    assertTrue(r.err().contains("edits=1") && r.err().contains(">= 2"), r.err());
  }
}
