package dev.editforge.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.FilterFileSystem;
import org.apache.hadoop.fs.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The commit by rename, when a writer that takes no lock writes the same table meanwhile. */
class RunDirCommitTest {
  @TempDir java.nio.file.Path dir;

  /** Local FS on which a lockless writer recreates a table the moment it is moved aside. */
  static final class RacingFileSystem extends FilterFileSystem {
    RacingFileSystem(FileSystem local) {
      super(local);
    }

    @Override
    public boolean rename(Path src, Path dst) throws IOException {
      boolean ok = super.rename(src, dst);
      if (ok && dst.toString().contains("/" + RunDir.TRASH + "/")) {
        mkdirs(src);
        create(new Path(src, "part-00000-other.parquet")).close();
      }
      return ok;
    }
  }

  @Test
  void aTableThatReappearsDuringTheCommitIsNeverRenamedOnto() throws Exception {
    FileSystem fs = new RacingFileSystem(FileSystem.getLocal(new Configuration()));
    RunDir run = new RunDir(new Path(dir.toUri()), fs);
    Files.createDirectories(dir.resolve("t"));
    Files.writeString(dir.resolve("t/part-00000-old.parquet"), "old");
    Path staging = run.newStaging("t");
    run.writeString(new Path(staging, "part-00000-new.parquet"), "new");

    TableConflictException e =
        assertThrows(TableConflictException.class, () -> run.commit(staging, "t"));
    assertTrue(e.getMessage().contains("cannot commit table t"), e.getMessage());
    assertTrue(e.getMessage().contains("another writer"), e.getMessage());
    // Renamed onto the existing directory, the staging directory would now sit inside it.
    assertFalse(Files.exists(dir.resolve("t").resolve(staging.getName())));
    try (var inTable = Files.list(dir.resolve("t"))) {
      assertEquals(
          List.of("part-00000-other.parquet"),
          inTable.map(p -> p.getFileName().toString()).filter(n -> !n.startsWith(".")).toList());
    }
  }

  @Test
  void leftoversOfOneTableAreRemovedAndOthersKept() throws Exception {
    RunDir run = new RunDir(dir.toString(), new Configuration());
    Path mine = run.newStaging("t");
    Path other = run.newStaging("t_other");
    Path trash = new Path(run.root(), RunDir.TRASH + "/t-0f8fad5b-d9cb-469f-a165-70867728950e");
    for (Path p : List.of(mine, other, trash)) {
      run.writeString(new Path(p, "part-0"), "x");
    }
    List<String> removed = run.removeLeftovers("t");
    assertEquals(2, removed.size(), removed.toString());
    assertFalse(run.exists(mine));
    assertFalse(run.exists(trash));
    assertTrue(run.exists(other), "another table's staging is not this writer's to remove");
  }
}
