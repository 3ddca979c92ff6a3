package dev.editforge.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.CliRun;
import dev.editforge.spark.RemoteModelCache;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code generate --model file:///…}: a model on a Hadoop file system is copied once into the
 * executor's local model cache, reused by a later run in the same JVM, and a copy whose bytes
 * changed is detected by its SHA-256 and copied again.
 */
class ModelUriGenerateTest {
  @TempDir static Path dir;
  private static String previousCache;

  @BeforeAll
  static void pointTheCacheAtATempDir() {
    previousCache = System.getProperty("editforge.model-cache");
    System.setProperty("editforge.model-cache", dir.resolve("model-cache").toString());
  }

  @AfterAll
  static void restore() {
    if (previousCache == null) {
      System.clearProperty("editforge.model-cache");
    } else {
      System.setProperty("editforge.model-cache", previousCache);
    }
  }

  @Test
  void aFileUriModelIsCopiedOncePerExecutorRunsAndACorruptCopyIsCopiedAgain() throws Exception {
    Path model = TinyRandomModel.write(dir.resolve("remote-model"), 64, 2, 1024, 7);
    String uri = model.toUri().toString(); // file:///…/remote-model/
    assertTrue(uri.startsWith("file:///"), uri);
    int before = RemoteModelCache.copies();

    Path run = SelfEditJobTest.ingested(dir.resolve("run-a"));
    CliRun a = generate(run, uri);
    long rows =
        dev.editforge.TestSpark.session()
            .read()
            .parquet(run.resolve("self_edits").toString())
            .count();
    assertEquals(15, rows, a.toString());
    assertEquals(
        1, RemoteModelCache.copies() - before, "two tasks on one executor: one copy\n" + a);

    // a later stage in the same JVM reuses the verified copy
    Path reused = RemoteModelCache.localize(uri, new Configuration(), m -> {});
    assertEquals(1, RemoteModelCache.copies() - before, "a later use reuses the cache");
    assertTrue(Files.isRegularFile(reused.resolve(RemoteModelCache.CHECKSUMS)));

    // flip one byte of the weights (same size): only the SHA-256 can tell
    Path entry;
    try (Stream<Path> s = Files.list(dir.resolve("model-cache"))) {
      entry = s.filter(Files::isDirectory).findFirst().orElseThrow();
    }
    Path weights = entry.resolve("model.safetensors");
    byte[] bytes = Files.readAllBytes(weights);
    byte[] original = bytes.clone();
    bytes[bytes.length - 1] ^= 0x55;
    Files.write(weights, bytes);
    RemoteModelCache.forgetVerified();
    List<String> log = new java.util.ArrayList<>();
    Path again = RemoteModelCache.localize(uri, new Configuration(), log::add);
    assertTrue(
        log.stream().anyMatch(l -> l.contains("is corrupt") && l.contains("SHA-256")),
        "the corruption must be reported: " + log);
    assertEquals(2, RemoteModelCache.copies() - before, "a corrupt copy is copied again");
    byte[] restored = Files.readAllBytes(again.resolve("model.safetensors"));
    assertEquals(original.length, restored.length);
    assertNotEquals(bytes[bytes.length - 1], restored[restored.length - 1]);
    assertTrue(java.util.Arrays.equals(original, restored), "the copy matches the source again");
  }

  private static CliRun generate(Path run, String uri) {
    CliRun r =
        CliRun.of(
            "generate",
            "--model",
            uri,
            "--k",
            "1",
            "--run-dir",
            run.toString(),
            "--set",
            "generate.partitions=2",
            "--set",
            "generate.self-edit.max-new-tokens=2");
    assertEquals(0, r.exitCode(), r.toString());
    return r;
  }
}
