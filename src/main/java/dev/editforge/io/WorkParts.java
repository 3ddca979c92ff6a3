package dev.editforge.io;

import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.UUID;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * The one commit protocol for the incremental parts a long stage writes before its table commits
 * (generate chunks, score batches, finetune checkpoints): a part is written under a temporary name,
 * renamed to its final name, and only then marked with a {@value #COMMITTED} file. On an object
 * store (S3A) a directory rename is a copy that a kill can interrupt, so the marker must come after
 * the rename: a part without it is half-copied and is discarded by {@link #discardUncommitted} on
 * resume.
 *
 * <p>Works on any Hadoop FileSystem and holds only a path and a file system, so executors may use
 * it as well as the driver. Not thread-safe for the same part name; distinct names may be committed
 * concurrently.
 */
public final class WorkParts {
  public static final String COMMITTED = "_COMMITTED";
  private static final String TEMP_PREFIX = "_tmp-";

  private final Path dir;
  private final FileSystem fs;

  public WorkParts(Path dir, Configuration conf) {
    this.dir = dir;
    try {
      this.fs = dir.getFileSystem(conf);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open the file system of " + dir, e);
    }
  }

  /** {@code <run-dir>/_work/<name>}. */
  public static WorkParts of(RunDir run, String name) {
    return new WorkParts(run.path("_work/" + name), run.fs().getConf());
  }

  public Path dir() {
    return dir;
  }

  /** A fresh temporary location for one part (not created, so a Spark writer may create it). */
  public Path newTemp() {
    return new Path(dir, TEMP_PREFIX + UUID.randomUUID());
  }

  /**
   * Renames {@code temp} to {@code name} (replacing a part of that name) and marks it committed,
   * with {@code note} (e.g. the ids it holds) as the marker's content.
   */
  public Path commit(Path temp, String name, String note) {
    Path part = new Path(dir, name);
    try {
      if (fs.exists(part)) {
        fs.delete(part, true);
      }
      if (!fs.rename(temp, part)) {
        throw new IOException("rename " + temp + " -> " + part + " failed");
      }
      try (OutputStream out = fs.create(new Path(part, COMMITTED), true)) {
        out.write(note.getBytes(StandardCharsets.UTF_8));
      }
      return part;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot commit work part " + part, e);
    }
  }

  /** Uploads a local directory as part {@code name} with the same protocol. */
  public Path commitLocal(java.nio.file.Path local, String name, String note) {
    Path temp = newTemp();
    try {
      fs.mkdirs(dir);
      fs.copyFromLocalFile(false, true, new Path(local.toUri()), temp);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot upload " + local + " to " + temp, e);
    }
    return commit(temp, name, note);
  }

  /** The committed parts whose names start with {@code prefix}, sorted by name. */
  public List<Path> committed(String prefix) {
    List<Path> out = new ArrayList<>();
    for (FileStatus st : list()) {
      String name = st.getPath().getName();
      if (st.isDirectory() && name.startsWith(prefix) && isCommitted(st.getPath())) {
        out.add(st.getPath());
      }
    }
    out.sort(Comparator.comparing(Path::getName));
    return out;
  }

  public boolean isCommitted(Path part) {
    try {
      return fs.exists(new Path(part, COMMITTED));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot stat " + part, e);
    }
  }

  /**
   * Deletes everything in the directory that is not a committed part: temporary directories and
   * parts a killed run left half-renamed. Returns how many entries were removed.
   */
  public int discardUncommitted() {
    int removed = 0;
    for (FileStatus st : list()) {
      if (!st.isDirectory()
          || st.getPath().getName().startsWith(TEMP_PREFIX)
          || !isCommitted(st.getPath())) {
        delete(st.getPath());
        removed++;
      }
    }
    return removed;
  }

  /** Removes every part (after the stage committed its table, or on --force). */
  public void deleteAll() {
    delete(dir);
  }

  private void delete(Path p) {
    try {
      fs.delete(p, true);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + p, e);
    }
  }

  private FileStatus[] list() {
    try {
      return fs.exists(dir) ? fs.listStatus(dir) : new FileStatus[0];
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list " + dir, e);
    }
  }
}
