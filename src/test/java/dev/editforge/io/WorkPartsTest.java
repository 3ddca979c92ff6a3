package dev.editforge.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileUtil;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The one commit protocol for incremental parts, on the checksummed local file system Hadoop uses
 * for {@code file:} and on a file system whose directory rename is a file-by-file copy that a kill
 * can interrupt, as S3A's is.
 */
class WorkPartsTest {
  @TempDir java.nio.file.Path dir;

  /**
   * file: through Hadoop's default LocalFileSystem, or s3sim: through {@link CopyRenameFileSystem}.
   */
  private WorkParts parts(String fs) {
    Configuration c = new Configuration(false);
    if (fs.equals("copy-rename")) {
      c.set("fs.s3sim.impl", CopyRenameFileSystem.class.getName());
      c.setBoolean("fs.s3sim.impl.disable.cache", true);
      return new WorkParts(new Path("s3sim://" + dir.resolve("work")), c);
    }
    return new WorkParts(new Path(dir.resolve("work").toUri()), c);
  }

  private static java.nio.file.Path local(Path p) {
    return java.nio.file.Path.of(p.toUri().getPath());
  }

  private static Path writeTemp(WorkParts parts, String... files) throws IOException {
    Path temp = parts.newTemp();
    java.nio.file.Path local = local(temp);
    Files.createDirectories(local);
    for (String f : files) {
      Files.writeString(local.resolve(f), f);
    }
    return temp;
  }

  @ParameterizedTest
  @ValueSource(strings = {"local", "copy-rename"})
  void onlyMarkedPartsCountAndUnmarkedOnesAreDiscarded(String fs) throws IOException {
    WorkParts parts = parts(fs);
    Path a = parts.commit(writeTemp(parts, "rows-1"), "chunk-a", "a1\na2\n");
    assertTrue(parts.isCommitted(a));
    assertEquals("a1\na2\n", Files.readString(local(a).resolve(WorkParts.COMMITTED)));

    // A part renamed into place whose marker never got written (killed between the two steps),
    // and a temporary directory a killed writer left behind.
    java.nio.file.Path unmarked = dir.resolve("work/chunk-b");
    Files.createDirectories(unmarked);
    Files.writeString(unmarked.resolve("rows-1"), "half");
    writeTemp(parts, "rows-1");

    assertEquals(
        List.of("chunk-a"), parts.committed("chunk-").stream().map(Path::getName).toList());
    assertEquals(2, parts.discardUncommitted());
    assertFalse(Files.exists(unmarked));
    try (var left = Files.list(dir.resolve("work"))) {
      assertEquals(List.of("chunk-a"), left.map(p -> p.getFileName().toString()).toList());
    }
    assertEquals(0, parts.discardUncommitted(), "a second resume finds nothing to discard");

    parts.deleteAll();
    assertEquals(List.of(), parts.committed(""));
  }

  @ParameterizedTest
  @ValueSource(strings = {"local", "copy-rename"})
  void recommittingAPartReplacesIt(String fs) throws IOException {
    WorkParts parts = parts(fs);
    parts.commit(writeTemp(parts, "old"), "step-00000002", "");
    Path p = parts.commit(writeTemp(parts, "new"), "step-00000002", "");
    java.nio.file.Path local = local(p);
    assertTrue(Files.exists(local.resolve("new")));
    assertFalse(Files.exists(local.resolve("old")), "the earlier part of that name is gone");
  }

  @ParameterizedTest
  @ValueSource(strings = {"local", "copy-rename"})
  void commitLocalUploadsADirectoryAsAPart(String fs) throws IOException {
    java.nio.file.Path local = Files.createDirectories(dir.resolve("checkpoint"));
    Files.writeString(local.resolve("adapter.safetensors"), "w");
    WorkParts parts = parts(fs);
    Path p = parts.commitLocal(local, "step-00000010", "step 10");
    assertEquals(List.of(p), parts.committed("step-"));
    assertEquals("w", Files.readString(local(p).resolve("adapter.safetensors")));
  }

  /** An interrupted copy-rename leaves a partial part without the marker; resume discards it. */
  @org.junit.jupiter.api.Test
  void aRenameKilledHalfwayLeavesNothingThatCounts() throws IOException {
    WorkParts parts = parts("copy-rename");
    Path temp = writeTemp(parts, "f1", "f2", "f3");
    CopyRenameFileSystem.failAfterFiles = 1;
    try {
      assertThrows(UncheckedIOException.class, () -> parts.commit(temp, "part-x", "x"));
    } finally {
      CopyRenameFileSystem.failAfterFiles = -1;
    }
    java.nio.file.Path partial = dir.resolve("work/part-x");
    assertTrue(Files.isDirectory(partial), "the copy got as far as the first file");
    assertEquals(List.of(), parts.committed("part-"));
    parts.discardUncommitted();
    assertFalse(Files.exists(partial));
  }

  /**
   * A local file system whose directory rename copies file by file and then deletes the source, as
   * S3A's does, and can be told to die after n files, as a killed driver would.
   */
  public static final class CopyRenameFileSystem extends RawLocalFileSystem {
    static volatile int failAfterFiles = -1;

    @Override
    public java.net.URI getUri() {
      return java.net.URI.create("s3sim:///");
    }

    @Override
    public String getScheme() {
      return "s3sim";
    }

    @Override
    public boolean rename(Path src, Path dst) throws IOException {
      FileStatus st = getFileStatus(src);
      if (!st.isDirectory()) {
        return super.rename(src, dst);
      }
      if (exists(dst)) {
        return false;
      }
      mkdirs(dst);
      int copied = 0;
      for (FileStatus f : listStatus(src)) {
        if (failAfterFiles >= 0 && copied >= failAfterFiles) {
          throw new IOException("killed during the copy of " + src);
        }
        FileUtil.copy(
            this, f.getPath(), this, new Path(dst, f.getPath().getName()), false, getConf());
        copied++;
      }
      return delete(src, true);
    }
  }
}
