package dev.editforge.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.CliRun;
import dev.editforge.TestSpark;
import dev.editforge.io.Manifest;
import java.io.InputStream;
import java.io.OutputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.io.compress.BZip2Codec;
import org.apache.hadoop.io.compress.CompressionCodec;
import org.apache.hadoop.io.compress.GzipCodec;
import org.apache.hadoop.util.ReflectionUtils;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Issue 17 item 14: the bundled sample, compressed, ingests exactly as the plain files do. */
class CompressedInputsTest {
  private static final Map<String, String> SAMPLE =
      Map.of(
          "squad", "articles.json",
          "dpr", "passages.tsv",
          "logic", "logic.jsonl",
          "instructions", "instructions.jsonl");
  private static final Map<String, String> TABLE_IDS =
      Map.of(
          "articles", "article_id",
          "passages", "passage_id",
          "problems", "problem_id",
          "instructions", "instruction_id");

  @TempDir Path dir;

  private Path sample(String name, String suffix, Class<? extends CompressionCodec> codec)
      throws Exception {
    Path out = dir.resolve(name + suffix);
    try (InputStream in =
            getClass().getClassLoader().getResourceAsStream("editforge/sample/" + name);
        OutputStream raw = Files.newOutputStream(out);
        OutputStream os =
            codec == null
                ? raw
                : ReflectionUtils.newInstance(codec, new Configuration()).createOutputStream(raw)) {
      in.transferTo(os);
    }
    return out;
  }

  private CliRun ingest(Path run, Map<String, Path> files) {
    List<String> args = new java.util.ArrayList<>(List.of("ingest", "--run-dir", run.toString()));
    files.forEach((kind, f) -> args.addAll(List.of("--input", kind + ":" + f)));
    return CliRun.of(args.toArray(new String[0]));
  }

  @Test
  void theGzippedAndBzippedSampleGivesTheSameTablesAndCountsAsThePlainOne() throws Exception {
    Map<String, Path> plain = new java.util.TreeMap<>();
    Map<String, Path> packed = new java.util.TreeMap<>();
    for (Map.Entry<String, String> e : SAMPLE.entrySet()) {
      plain.put(e.getKey(), sample(e.getValue(), "", null));
      boolean bz2 = e.getKey().equals("dpr");
      packed.put(
          e.getKey(),
          sample(e.getValue(), bz2 ? ".bz2" : ".gz", bz2 ? BZip2Codec.class : GzipCodec.class));
    }
    Path plainRun = dir.resolve("plain");
    Path packedRun = dir.resolve("packed");
    CliRun a = ingest(plainRun, plain);
    assertEquals(0, a.exitCode(), a.toString());
    CliRun b = ingest(packedRun, packed);
    assertEquals(0, b.exitCode(), b.toString());

    for (Map.Entry<String, String> t : TABLE_IDS.entrySet()) {
      Manifest pm = HostileInputsTest.manifest(plainRun, t.getKey());
      Manifest cm = HostileInputsTest.manifest(packedRun, t.getKey());
      assertEquals(pm.counts(), cm.counts(), t.getKey());
      assertTrue(pm.count("accepted") > 0, t.getKey());
      assertEquals(
          rows(plainRun, t.getKey(), t.getValue()),
          rows(packedRun, t.getKey(), t.getValue()),
          t.getKey());
    }
    assertEquals(15, HostileInputsTest.manifest(packedRun, "articles").count("accepted"));
    assertEquals(163, HostileInputsTest.manifest(packedRun, "passages").count("accepted"));
  }

  private static List<String> rows(Path run, String table, String id) {
    return TestSpark.session()
        .read()
        .parquet(run.resolve(table).toString())
        .orderBy(id)
        .toJSON()
        .collectAsList();
  }
}
