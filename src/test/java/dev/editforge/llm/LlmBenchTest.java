package dev.editforge.llm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The bench's logic and output shape on a tiny model; its numbers are the real bench's business.
 */
class LlmBenchTest {
  static final List<String> NUMBERS =
      List.of(
          "bw_fraction_b1",
          "batch16_speedup",
          "kv_cache_speedup",
          "peak_rss_ratio",
          "decode_b1_tok_s",
          "decode_b16_tok_s",
          "prefill_tok_s",
          "rss_above_runtime_ratio",
          "runtime_mb",
          "load_above_runtime_ratio",
          "rss_above_cold_engine_ratio",
          "weights_mb",
          "kv_mb",
          "closed_above_runtime_mb",
          "params_m");

  /** The fields of a {@code BENCH llm k=v ...} line, in order. */
  static Map<String, String> fields(String line) {
    assertTrue(line.startsWith("BENCH llm "), line);
    Map<String, String> out = new LinkedHashMap<>();
    for (String kv : line.substring("BENCH llm ".length()).split(" ")) {
      int eq = kv.indexOf('=');
      assertTrue(eq > 0, line);
      out.put(kv.substring(0, eq), kv.substring(eq + 1));
    }
    return out;
  }

  /** Every number field present and finite, speeds and sizes positive. */
  static void assertSane(Map<String, String> f) {
    for (String key : NUMBERS) {
      assertTrue(f.containsKey(key), key + " missing from " + f);
      double v = Double.parseDouble(f.get(key));
      assertTrue(Double.isFinite(v), key + "=" + v);
      if (!key.equals("closed_above_runtime_mb")) {
        assertTrue(v >= 0, key + "=" + v);
      }
    }
    for (String key :
        List.of(
            "decode_b1_tok_s",
            "decode_b16_tok_s",
            "prefill_tok_s",
            "runtime_mb",
            "weights_mb",
            "kv_mb",
            "params_m",
            "batch16_speedup",
            "kv_cache_speedup")) {
      assertTrue(Double.parseDouble(f.get(key)) > 0, key + "=" + f.get(key));
    }
    // RSS above a baseline: a tiny model's pages can hide in what the runtime already freed, so
    // these may be 0, never negative or missing.
    for (String key : List.of("load_above_runtime_ratio", "rss_above_cold_engine_ratio")) {
      double r = Double.parseDouble(f.get(key));
      assertTrue(r >= 0 && Double.isFinite(r), key + "=" + f.get(key));
    }
    // The runtime is part of the whole peak, so the ratio above it is the smaller one.
    assertTrue(
        Double.parseDouble(f.get("rss_above_runtime_ratio"))
            < Double.parseDouble(f.get("peak_rss_ratio")),
        f.toString());
  }

  @Test
  void endsWithOneMachineReadableLineOfEveryField() {
    LlmTestSupport.oneEngineThread();
    ByteArrayOutputStream bytes = new ByteArrayOutputStream();
    LlmBench.Options tiny =
        new LlmBench.Options(
            null, "custom", 300, 64, 128, 2, 4, 2, 8, 24, 8, 16, 4, 4, 1, 1, 1L << 20);
    int status = LlmBench.run(new PrintStream(bytes, true, StandardCharsets.UTF_8), tiny);
    assertEquals(0, status);
    List<String> lines = bytes.toString(StandardCharsets.UTF_8).lines().toList();
    String last = lines.get(lines.size() - 1);
    Map<String, String> f = fields(last);
    assertSane(f);
    assertEquals("4", f.get("batch"));
    assertEquals("F32", f.get("dtype"));
    assertEquals("custom", f.get("model"));
    // 300 x 64 embedding (tied) + 2 layers of (4 x 64 x 64 ... ): the weights the config implies.
    ModelConfig config = tiny.randomConfig();
    assertEquals(config.parameterCount() * 4 / 1e6, Double.parseDouble(f.get("weights_mb")), 0.06);
    // 2 (k, v) x 2 layers x 2 kv heads x 16 head dim x 4 bytes per position; the largest run is
    // batch 4 x (8 + 8 + 1) = 68 positions.
    assertEquals(2 * 2 * 2 * 16 * 4 * 68 / 1e6, Double.parseDouble(f.get("kv_mb")), 0.006);
    assertNull(f.get("vs_llama2c"));
    assertEquals(1, lines.stream().filter(l -> l.startsWith("BENCH")).count());
    assertTrue(
        lines.stream()
            .anyMatch(l -> l.contains("rss_above_runtime_ratio") && l.contains("<= 1.2")));
  }

  @Test
  void paramsReshapeTheRandomModelAndPresetsNameTheirs() {
    LlmBench.Options llama2c = LlmBench.Options.fromParams(Map.of("preset", "llama2c"));
    assertEquals(
        List.of(512, 768, 2048, 8, 12, 12, 1, 256),
        List.of(
            llama2c.vocab(),
            llama2c.hidden(),
            llama2c.intermediate(),
            llama2c.layers(),
            llama2c.heads(),
            llama2c.kvHeads(),
            llama2c.threads(),
            llama2c.decodeTokens()));
    assertEquals("llama2c", llama2c.preset());
    LlmBench.Options custom =
        LlmBench.Options.fromParams(Map.of("vocab", "512", "kv-heads", "12", "tokens", "32"));
    assertEquals(512, custom.vocab());
    assertEquals(12, custom.kvHeads());
    assertEquals(32, custom.decodeTokens());
    assertEquals(LlmBench.Options.standard().hidden(), custom.hidden());
    assertEquals("custom", custom.preset());
    // Running options (not the shape) keep the preset's name.
    assertEquals(
        "llama2c",
        LlmBench.Options.fromParams(Map.of("preset", "llama2c", "rounds", "3")).preset());
  }

  @Test
  void badParamsAreOneClearLine(@TempDir Path dir) {
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> LlmBench.Options.fromParams(Map.of("model", dir.resolve("absent").toString())));
    assertTrue(
        e.getMessage().contains("absent") && e.getMessage().contains("not a directory"),
        e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> LlmBench.Options.fromParams(Map.of("model", dir.toString())));
    assertTrue(e.getMessage().contains("config.json"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> LlmBench.Options.fromParams(Map.of("layerz", "2")));
    assertTrue(
        e.getMessage().contains("layerz") && e.getMessage().contains("kv-heads"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> LlmBench.Options.fromParams(Map.of("heads", "7")));
    assertTrue(e.getMessage().contains("heads=7"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> LlmBench.Options.fromParams(Map.of("tokens", "x")));
    assertTrue(e.getMessage().contains("tokens must be an integer"), e.getMessage());
    e =
        assertThrows(
            IllegalArgumentException.class,
            () -> LlmBench.Options.fromParams(Map.of("preset", "gpt4")));
    assertTrue(e.getMessage().contains("llama2c"), e.getMessage());
  }
}
