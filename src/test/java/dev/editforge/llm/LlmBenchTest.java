package dev.editforge.llm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * The bench's logic and output shape on a tiny model; its numbers are the real bench's business.
 */
class LlmBenchTest {
  @Test
  void endsWithOneMachineReadableLineOfTheFourRatios() {
    LlmTestSupport.oneEngineThread();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    LlmBench.Options tiny =
        new LlmBench.Options(300, 64, 128, 2, 4, 2, 8, 8, 16, 4, 4, 1, 1L << 20);
    int status = LlmBench.run(new PrintStream(bytes, true, StandardCharsets.UTF_8), tiny);
    assertEquals(0, status);
    List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().toList();
    String last = lines.get(lines.size() - 1);
    assertTrue(
        last.matches(
            "BENCH llm bw_fraction_b1=[0-9.]+ batch16_speedup=[0-9.]+ kv_cache_speedup=[0-9.]+"
                + " peak_rss_ratio=[0-9.]+"),
        last);
    assertEquals(1, lines.stream().filter(l -> l.startsWith("BENCH")).count());
    assertTrue(lines.stream().anyMatch(l -> l.contains("bw_fraction_b1") && l.contains(">= 0.5")));
  }
}
