package dev.editforge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.CliRun;
import dev.editforge.llm.TinyModels;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** {@code bench llm --param model=DIR} through the CLI: a real HF-layout model, and a bad dir. */
class LlmBenchCommandTest {
  @Test
  void benchesAModelDirectoryWithItsOwnTokenizer(@TempDir Path dir) {
    Path model = TinyModels.qwen2(dir.resolve("tiny-qwen2"), TinyModels.Size.TINY, 3);
    CliRun r =
        CliRun.of(
            "bench",
            "llm",
            "--param",
            "model=" + model,
            "--param",
            "tokens=6",
            "--param",
            "batch=3",
            "--param",
            "prompt=5",
            "--param",
            "prefill=20",
            "--param",
            "kv-tokens=12",
            "--param",
            "rounds=1",
            "--param",
            "threads=1");
    assertEquals(0, r.exitCode(), r.toString());
    List<String> bench = r.out().lines().filter(l -> l.startsWith("BENCH llm ")).toList();
    assertEquals(1, bench.size(), r.toString());
    Map<String, String> f = new LinkedHashMap<>();
    for (String kv : bench.get(0).substring("BENCH llm ".length()).split(" ")) {
      f.put(kv.substring(0, kv.indexOf('=')), kv.substring(kv.indexOf('=') + 1));
    }
    assertEquals("tiny-qwen2", f.get("model"), r.toString());
    assertEquals("3", f.get("batch"));
    assertEquals("F32", f.get("dtype"));
    for (String key : List.of("decode_b1_tok_s", "decode_b16_tok_s", "prefill_tok_s", "params_m")) {
      assertTrue(Double.parseDouble(f.get(key)) > 0, key + " in " + bench);
    }
    assertTrue(
        Double.isFinite(Double.parseDouble(f.get("rss_above_runtime_ratio"))), bench.toString());
    assertTrue(r.out().contains("qwen2") && r.out().contains("parameters"), r.out());
  }

  @Test
  void aMissingModelDirectoryIsExit2WithOneLine(@TempDir Path dir) {
    CliRun r = CliRun.of("bench", "llm", "--param", "model=" + dir.resolve("nope"));
    assertEquals(2, r.exitCode(), r.toString());
    assertTrue(r.err().contains("nope") && r.err().contains("not a directory"), r.toString());
    assertTrue(r.err().strip().lines().count() <= 2, r.toString());
  }
}
