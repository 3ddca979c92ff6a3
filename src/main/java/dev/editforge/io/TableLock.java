package dev.editforge.io;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.JsonNode;
import dev.editforge.text.Json;
import java.io.FileNotFoundException;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.net.InetAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.StandardOpenOption;
import java.time.Duration;
import java.time.Instant;
import java.time.format.DateTimeParseException;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.UUID;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The lock a writer holds on one table of a run directory, from the start of producing it through
 * its commit: {@code <run>/_locks/<table>.lock}, created atomically, holding who took it (host,
 * pid, start time, command). Without it two commands writing one table both report success and the
 * last rename silently wins. A second writer fails at once with {@link TableConflictException}
 * naming the holder; a lock left by a killed process is removed only on request ({@code
 * --break-lock}) and only once it is older than the configured timeout, since a live writer cannot
 * be told from a dead one on another host.
 *
 * <p>Atomic creation: HDFS's {@code create(path, overwrite=false)} is atomic; Hadoop's local file
 * system checks for the file and then creates it (a race), so on {@code file:} the lock is created
 * with {@code O_EXCL} through java.nio instead. S3A has no atomic create: there the lock narrows
 * the race to the moment of creation but cannot close it.
 *
 * <p>The owner closes it (try-with-resources); closing removes the file only while it is still this
 * holder's, so a lock broken and retaken by another writer stays. Not thread-safe; one per table
 * write.
 */
public final class TableLock implements AutoCloseable {
  private static final Logger LOG = LoggerFactory.getLogger(TableLock.class);

  public static final String DIR = "_locks";

  /** Who holds a lock; {@code token} tells two holders in one process apart. */
  public record Holder(String host, long pid, String startedAt, String command, String token) {
    static Holder me(String command) {
      return new Holder(
          hostName(),
          ProcessHandle.current().pid(),
          Instant.now().toString(),
          command,
          UUID.randomUUID().toString());
    }

    /** The lock file's content; snake_case like the manifests. */
    String toJson() {
      Map<String, Object> m = new LinkedHashMap<>();
      m.put("host", host);
      m.put("pid", pid);
      m.put("started_at", startedAt);
      m.put("command", command);
      m.put("token", token);
      return Json.compact(m);
    }

    /** Null when {@code json} is not a whole lock record (e.g. a file still being written). */
    static Holder fromJson(String json) {
      try {
        JsonNode n = Json.MAPPER.readTree(json);
        if (n == null || !n.hasNonNull("started_at")) {
          return null;
        }
        return new Holder(
            n.path("host").asText("unknown"),
            n.path("pid").asLong(-1),
            n.get("started_at").asText(),
            n.path("command").asText("unknown"),
            n.path("token").asText(""));
      } catch (JsonProcessingException e) {
        return null;
      }
    }

    /** How the messages name the holder. */
    public String describe() {
      return "host " + host + ", pid " + pid + ", since " + startedAt + ", command " + command;
    }
  }

  private final FileSystem fs;
  private final Path path;
  private final Holder holder;
  private boolean released;

  private TableLock(FileSystem fs, Path path, Holder holder) {
    this.fs = fs;
    this.path = path;
    this.holder = holder;
  }

  public static Path path(RunDir run, String table) {
    return new Path(run.root(), DIR + "/" + table + ".lock");
  }

  /**
   * Takes {@code table}'s lock for {@code command}.
   *
   * @param breakStale remove a lock older than {@code timeout} first (the user's {@code
   *     --break-lock})
   * @throws TableConflictException naming the holder when the lock is held (and, with {@code
   *     breakStale}, not yet older than {@code timeout})
   */
  public static TableLock acquire(
      RunDir run, String table, String command, Duration timeout, boolean breakStale) {
    FileSystem fs = run.fs();
    Path path = path(run, table);
    Holder me = Holder.me(command);
    if (create(fs, path, me)) {
      return new TableLock(fs, path, me);
    }
    Holder other = read(fs, path);
    if (other == null) {
      // Released between our create and our read: one more try, then it is a busy table.
      if (create(fs, path, me)) {
        return new TableLock(fs, path, me);
      }
      other = read(fs, path);
    }
    String who = other == null ? "another writer" : other.describe();
    Duration age = other == null ? Duration.ZERO : age(other);
    if (breakStale && other != null && age.compareTo(timeout) > 0) {
      LOG.warn("breaking the lock {} of table {} held by {}", path, table, who);
      delete(fs, path);
      if (create(fs, path, me)) {
        return new TableLock(fs, path, me);
      }
      Holder now = read(fs, path);
      who = now == null ? "another writer" : now.describe();
      throw new TableConflictException(
          "table " + table + " was locked again by " + who + " while its stale lock was broken");
    }
    String advice =
        breakStale
            ? "; the lock is younger than editforge.run.lock-timeout ("
                + human(timeout)
                + "), so --break-lock leaves it: wait for that writer or stop it"
            : "; if that process is dead, rerun with --break-lock (honoured once the lock is older"
                + " than editforge.run.lock-timeout, "
                + human(timeout)
                + ")";
    throw new TableConflictException(
        "table "
            + table
            + " in "
            + run.root()
            + " is being written by "
            + who
            + " (lock "
            + path
            + ")"
            + advice);
  }

  public Holder holder() {
    return holder;
  }

  /** Removes the lock file if it is still this holder's; idempotent. */
  @Override
  public void close() {
    if (released) {
      return;
    }
    released = true;
    Holder now = read(fs, path);
    if (now == null || !holder.token().equals(now.token())) {
      LOG.warn("lock {} is no longer ours (broken by another writer); left as it is", path);
      return;
    }
    delete(fs, path);
  }

  /** Creates the lock file holding {@code me}; false when it exists. */
  private static boolean create(FileSystem fs, Path path, Holder me) {
    byte[] content = me.toJson().getBytes(StandardCharsets.UTF_8);
    try {
      if ("file".equals(fs.getUri().getScheme())) {
        java.nio.file.Path p = java.nio.file.Path.of(fs.makeQualified(path).toUri());
        Files.createDirectories(p.getParent());
        try (OutputStream out =
            Files.newOutputStream(p, StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE)) {
          out.write(content);
        }
        return true;
      }
      try (OutputStream out = fs.create(path, false)) {
        out.write(content);
      }
      return true;
    } catch (FileAlreadyExistsException | org.apache.hadoop.fs.FileAlreadyExistsException e) {
      return false;
    } catch (IOException e) {
      // HDFS reports an existing file as a RemoteException wrapping FileAlreadyExistsException.
      if (exists(fs, path)) {
        return false;
      }
      throw new UncheckedIOException("cannot create lock " + path, e);
    }
  }

  /**
   * The holder written in the lock file; null when it is gone. A file being written (empty) or
   * unreadable names an unknown holder aged by the file's modification time.
   */
  static Holder read(FileSystem fs, Path path) {
    try {
      String json;
      try (var in = fs.open(path)) {
        json = new String(in.readAllBytes(), StandardCharsets.UTF_8);
      }
      Holder h = Holder.fromJson(json);
      if (h == null) {
        FileStatus st = fs.getFileStatus(path);
        return new Holder(
            "unknown",
            -1,
            Instant.ofEpochMilli(st.getModificationTime()).toString(),
            "unknown",
            "");
      }
      return h;
    } catch (FileNotFoundException e) {
      return null;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read lock " + path, e);
    }
  }

  private static Duration age(Holder h) {
    try {
      return Duration.between(Instant.parse(h.startedAt()), Instant.now());
    } catch (DateTimeParseException e) {
      return Duration.ZERO;
    }
  }

  /** 24h, 90m, 45s: the form the setting is written in. */
  static String human(Duration d) {
    long s = d.toSeconds();
    if (s % 3600 == 0) {
      return s / 3600 + "h";
    }
    return s % 60 == 0 ? s / 60 + "m" : s + "s";
  }

  private static boolean exists(FileSystem fs, Path path) {
    try {
      return fs.exists(path);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot stat " + path, e);
    }
  }

  private static void delete(FileSystem fs, Path path) {
    try {
      fs.delete(path, false);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot remove lock " + path, e);
    }
  }

  private static String hostName() {
    try {
      return InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      return "unknown-host";
    }
  }
}
