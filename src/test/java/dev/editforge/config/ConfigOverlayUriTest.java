package dev.editforge.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import dev.editforge.CliRun;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FSDataInputStream;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A {@code --conf} overlay given as a Hadoop URI is read through Hadoop's FileSystem, its relative
 * includes from beside it on the same file system; an unreadable one is a settings error naming it.
 */
class ConfigOverlayUriTest {
  @TempDir Path dir;

  /**
   * An object store stand-in: the local disk under the scheme {@code s3sim}, counting the files it
   * opens, so a test can tell that a read went through Hadoop and not through java.nio.
   */
  public static final class SimulatedStore extends RawLocalFileSystem {
    static final AtomicInteger OPENS = new AtomicInteger();

    @Override
    public URI getUri() {
      return URI.create("s3sim:///");
    }

    @Override
    public String getScheme() {
      return "s3sim";
    }

    @Override
    public FSDataInputStream open(org.apache.hadoop.fs.Path f, int bufferSize)
        throws java.io.IOException {
      OPENS.incrementAndGet();
      return super.open(f, bufferSize);
    }
  }

  private Path overlayWithInclude() throws Exception {
    Path confDir = Files.createDirectories(dir.resolve("conf"));
    Files.writeString(confDir.resolve("common.conf"), "editforge.ttt.lr = 0.25\n");
    Path overlay = confDir.resolve("cluster.conf");
    Files.writeString(
        overlay,
        "include \"common.conf\"\neditforge { ttt.epochs = 3, run-dir = \"hdfs:///runs/x\" }\n");
    return overlay;
  }

  @Test
  void aFileUriOverlayAndItsRelativeIncludeAreRead() throws Exception {
    Path overlay = overlayWithInclude();
    Config c =
        ConfigLoader.load(overlay.toUri().toString(), List.of("ttt.epochs=4"), new Configuration());
    assertEquals(4, c.getInt("editforge.ttt.epochs"), "--set wins over the overlay");
    assertEquals(0.25, c.getDouble("editforge.ttt.lr"), 0.0, "the include beside it was read");
    assertEquals("hdfs:///runs/x", c.getString("editforge.run-dir"));
  }

  @Test
  void anOverlayOnAnotherHadoopFileSystemIsReadThroughIt() throws Exception {
    Path overlay = overlayWithInclude();
    Configuration hadoop = new Configuration();
    hadoop.set("fs.s3sim.impl", SimulatedStore.class.getName());
    hadoop.setBoolean("fs.s3sim.impl.disable.cache", true);
    int before = SimulatedStore.OPENS.get();
    Config c = ConfigLoader.load("s3sim://" + overlay, List.of(), hadoop);
    assertEquals(3, c.getInt("editforge.ttt.epochs"));
    assertEquals(0.25, c.getDouble("editforge.ttt.lr"), 0.0);
    assertEquals(2, SimulatedStore.OPENS.get() - before, "the overlay and its include");
  }

  @Test
  void aMissingOverlayOrIncludeNamesTheUri() throws Exception {
    String absent = dir.resolve("absent.conf").toUri().toString();
    SettingsException e =
        assertThrows(
            SettingsException.class,
            () -> ConfigLoader.load(absent, List.of(), new Configuration()));
    assertTrue(e.getMessage().contains(absent.replace("file:///", "file:/")), e.getMessage());

    Path broken = Files.writeString(dir.resolve("broken.conf"), "include \"nope.conf\"\n");
    SettingsException inc =
        assertThrows(
            SettingsException.class,
            () -> ConfigLoader.load(broken.toUri().toString(), List.of(), new Configuration()));
    assertTrue(inc.getMessage().contains("includes \"nope.conf\""), inc.getMessage());
  }

  @Test
  void theCommandLineTakesAUriOverlay() throws Exception {
    Path passages = Files.writeString(dir.resolve("p.tsv"), "id\ttext\ttitle\n1\tText.\tT\n");
    Path overlay =
        Files.writeString(
            dir.resolve("ingest.conf"), "editforge.ingest.inputs = [\"dpr:" + passages + "\"]\n");
    CliRun r =
        CliRun.of(
            "ingest",
            "--dry-run",
            "--conf",
            overlay.toUri().toString(),
            "--run-dir",
            dir.resolve("run").toString());
    assertEquals(0, r.exitCode(), r.toString());
    assertTrue(r.out().contains(passages.getFileName().toString()), r.out());
  }
}
