package dev.editforge.io;

import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * A run directory on any Hadoop FileSystem (local, HDFS, S3A): where each table lives, its
 * manifest, and the staging area every stage writes into before it commits by rename, so a killed
 * stage never leaves anything a later stage would read as complete. Not thread-safe.
 */
public final class RunDir {
  public static final String MANIFEST = "_manifest.json";
  public static final String REJECTS = "_rejects";
  public static final String STAGING = "_staging";
  public static final String TRASH = "_trash";

  private final Path root;
  private final FileSystem fs;

  public RunDir(String location, Configuration hadoopConf) {
    this.root = qualify(location);
    try {
      this.fs = root.getFileSystem(hadoopConf);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open the file system of run dir " + location, e);
    }
  }

  /** A run directory on a given file system (tests wrap one to stage a race). */
  RunDir(Path root, FileSystem fs) {
    this.root = root;
    this.fs = fs;
  }

  /**
   * A local path without a scheme becomes an absolute file: URI, so executors see the same place.
   */
  public static Path qualify(String location) {
    URI uri = URI.create(location.replace(" ", "%20"));
    if (uri.getScheme() == null) {
      return new Path(new java.io.File(location).getAbsoluteFile().toURI());
    }
    return new Path(location);
  }

  public Path root() {
    return root;
  }

  public FileSystem fs() {
    return fs;
  }

  public Path table(String table) {
    return new Path(root, table);
  }

  public String tableUri(String table) {
    return table(table).toString();
  }

  public Path path(String relative) {
    return new Path(root, relative);
  }

  public Optional<Manifest> manifest(String table) {
    Path p = new Path(table(table), MANIFEST);
    try (InputStream in = fs.open(p)) {
      return Optional.of(Manifest.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8)));
    } catch (FileNotFoundException e) {
      return Optional.empty();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + p, e);
    }
  }

  /**
   * Removes what killed writers of {@code table} left: {@code _staging/<table>-<uuid>} directories
   * and {@code _trash/<table>-<uuid>} copies of a replaced table. Only safe while holding the
   * table's {@link TableLock}: then no live writer owns any of them. Returns the removed paths.
   */
  public List<String> removeLeftovers(String table) {
    List<String> removed = new ArrayList<>();
    for (String area : List.of(STAGING, TRASH)) {
      Path sample = new Path(root, area + "/" + table + "-x");
      Path parent = sample.getParent();
      Pattern name =
          Pattern.compile(
              Pattern.quote(new Path(table).getName())
                  + "-[0-9a-f]{8}(-[0-9a-f]{4}){3}-[0-9a-f]{12}");
      try {
        if (!fs.exists(parent)) {
          continue;
        }
        for (FileStatus st : fs.listStatus(parent)) {
          if (name.matcher(st.getPath().getName()).matches()) {
            fs.delete(st.getPath(), true);
            removed.add(st.getPath().toString());
          }
        }
      } catch (IOException e) {
        throw new UncheckedIOException("cannot clean " + parent + " of table " + table, e);
      }
    }
    return removed;
  }

  /**
   * A fresh staging path for one table (not yet created, so Spark writers may create it); nothing
   * reads from {@code _staging}.
   */
  public Path newStaging(String table) {
    return new Path(root, STAGING + "/" + table + "-" + UUID.randomUUID());
  }

  public void writeString(Path path, String content) {
    try (OutputStream out = fs.create(path, true)) {
      out.write(content.getBytes(StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write " + path, e);
    }
  }

  public String readString(Path path) {
    try (InputStream in = fs.open(path)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + path, e);
    }
  }

  public boolean exists(Path path) {
    try {
      return fs.exists(path);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot stat " + path, e);
    }
  }

  /**
   * Replaces {@code <run>/<table>} with the staging directory. The old table is moved aside first,
   * so at every instant the table path is either the old complete table, absent, or the new
   * complete table. The caller holds the table's {@link TableLock}.
   *
   * @throws TableConflictException when the table reappears after it was moved aside (a writer that
   *     does not take the lock): a rename onto an existing directory would move the staging
   *     directory inside it (Hadoop's local and HDFS semantics), so nothing is renamed
   */
  public void commit(Path staging, String table) {
    Path target = table(table);
    try {
      Path trash = null;
      if (fs.exists(target)) {
        trash = new Path(root, TRASH + "/" + table + "-" + UUID.randomUUID());
        fs.mkdirs(trash.getParent());
        if (!fs.rename(target, trash)) {
          throw new IOException("rename " + target + " -> " + trash + " failed");
        }
      }
      if (fs.exists(target)) {
        throw new TableConflictException(
            "cannot commit table "
                + table
                + ": "
                + target
                + " was written by another writer while this one committed; nothing was"
                + " committed (the previous table is in "
                + (trash == null ? "no trash: there was none" : trash.toString())
                + ")");
      }
      if (!fs.rename(staging, target)) {
        throw new IOException("rename " + staging + " -> " + target + " failed");
      }
      if (trash != null) {
        fs.delete(trash, true);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot commit table " + table, e);
    }
  }

  public void delete(Path path) {
    try {
      fs.delete(path, true);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + path, e);
    }
  }
}
