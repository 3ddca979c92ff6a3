package dev.editforge.cluster;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.CliRun;
import dev.editforge.TestSpark;
import dev.editforge.generate.TinyRandomModel;
import dev.editforge.spark.RemoteModelCache;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.hdfs.MiniDFSCluster;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code generate --model hdfs://…} against a real (in-process) HDFS: a namenode and a datanode
 * from Hadoop's MiniDFSCluster hold the model; the executor copies it once into its local model
 * cache ({@link RemoteModelCache}, SHA-256 verified) and generates from the copy.
 */
class HdfsModelIT {
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
  void generateReadsItsModelFromHdfsOncePerExecutor() throws Exception {
    Configuration conf = new Configuration();
    conf.set(MiniDFSCluster.HDFS_MINIDFS_BASEDIR, dir.resolve("dfs").toString());
    long t0 = System.nanoTime();
    try (MiniDFSCluster dfs = new MiniDFSCluster.Builder(conf).numDataNodes(1).build()) {
      dfs.waitActive();
      System.out.printf(
          "HdfsModelIT: MiniDFSCluster up in %.1f s%n", (System.nanoTime() - t0) / 1e9);
      FileSystem fs = dfs.getFileSystem();
      Path model = TinyRandomModel.write(dir.resolve("model"), 64, 2, 1024, 7);
      fs.copyFromLocalFile(
          new org.apache.hadoop.fs.Path(model.toUri()),
          new org.apache.hadoop.fs.Path("/models/tiny"));
      String uri = fs.getUri() + "/models/tiny";
      assertTrue(uri.startsWith("hdfs://"), uri);

      Path articles = dir.resolve("articles.json");
      try (InputStream in =
          getClass().getClassLoader().getResourceAsStream("editforge/sample/articles.json")) {
        Files.copy(in, articles);
      }
      Path run = dir.resolve("run");
      CliRun ingest =
          CliRun.of("ingest", "--input", "squad:" + articles, "--run-dir", run.toString());
      assertEquals(0, ingest.exitCode(), ingest.toString());

      int before = RemoteModelCache.copies();
      CliRun g =
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
      assertEquals(0, g.exitCode(), g.toString());
      assertEquals(
          15, TestSpark.session().read().parquet(run.resolve("self_edits").toString()).count());
      assertEquals(
          1, RemoteModelCache.copies() - before, "two tasks on one executor: one copy\n" + g);
      try (Stream<Path> entries = Files.list(dir.resolve("model-cache"))) {
        Path entry = entries.filter(Files::isDirectory).findFirst().orElseThrow();
        assertTrue(Files.isRegularFile(entry.resolve(RemoteModelCache.CHECKSUMS)), "verified");
        assertEquals(
            Files.size(model.resolve("model.safetensors")),
            Files.size(entry.resolve("model.safetensors")),
            "the weights came from HDFS whole");
      }
    }
  }
}
