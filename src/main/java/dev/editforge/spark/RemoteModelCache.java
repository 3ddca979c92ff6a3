package dev.editforge.spark;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.security.DigestInputStream;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.RemoteIterator;

/**
 * A local copy of a model directory that lives on a Hadoop file system (hdfs://, s3a://, file://),
 * made once per machine and reused by every later task and stage of the JVM: executors load models
 * from local files, and copying a multi-GB model per task would dominate the run.
 *
 * <p>The cache directory is {@code $EDITFORGE_MODEL_CACHE}, else {@code
 * <java.io.tmpdir>/editforge-model-cache}. An entry's name is a hash of the URI and every remote
 * file's path, size and modification time, so a model rewritten in place gets a new entry. While
 * copying, each file's SHA-256 is computed from the bytes read and its size compared with the
 * remote size; both are written to {@value #CHECKSUMS} inside the entry, which is then moved into
 * place atomically (two executors on one host copying at once: one wins, the other's copy is
 * dropped). The first use of an entry in a JVM re-hashes the local files against {@value
 * #CHECKSUMS}; a corrupted or truncated copy is deleted and copied again.
 *
 * <p>Thread-safe: static and synchronized (one copy at a time per JVM; a second task asking for the
 * same model waits for the first one's copy).
 */
public final class RemoteModelCache {
  /** The checksum file written into every cache entry: {@code sha256 size relative/path} lines. */
  public static final String CHECKSUMS = "_EDITFORGE_SHA256";

  private static final Map<String, Path> VERIFIED = new HashMap<>();
  private static final AtomicInteger COPIES = new AtomicInteger();

  private RemoteModelCache() {}

  /** Whether {@code ref} names a Hadoop file system (a scheme other than http/https). */
  public static boolean isHadoopUri(String ref) {
    if (ref == null) {
      return false;
    }
    int i = ref.indexOf("://");
    if (i <= 0) {
      return ref.startsWith("file:/");
    }
    String scheme = ref.substring(0, i).toLowerCase(java.util.Locale.ROOT);
    return !scheme.equals("http") && !scheme.equals("https");
  }

  /** How many copies this JVM made (tests, diagnostics). */
  public static int copies() {
    return COPIES.get();
  }

  /** Forgets which entries this JVM verified, so the next use checks them again (tests). */
  public static synchronized void forgetVerified() {
    VERIFIED.clear();
  }

  /** The cache root: {@code $EDITFORGE_MODEL_CACHE} or a directory under java.io.tmpdir. */
  public static Path root() {
    String env = System.getenv("EDITFORGE_MODEL_CACHE");
    String prop = System.getProperty("editforge.model-cache");
    if (prop != null && !prop.isBlank()) {
      return Path.of(prop);
    }
    return env != null && !env.isBlank()
        ? Path.of(env)
        : Path.of(System.getProperty("java.io.tmpdir"), "editforge-model-cache");
  }

  /** The local, verified copy of the model directory at {@code uri}. */
  public static synchronized Path localize(String uri, Configuration conf, Consumer<String> log) {
    try {
      org.apache.hadoop.fs.Path src = new org.apache.hadoop.fs.Path(uri);
      FileSystem fs = src.getFileSystem(conf);
      FileStatus top = fs.getFileStatus(src);
      if (!top.isDirectory()) {
        throw new IOException(uri + " is not a directory (a model is a directory)");
      }
      Map<String, FileStatus> files = listFiles(fs, src);
      String key = entryKey(uri, files);
      Path entry = root().resolve(key);
      Path known = VERIFIED.get(key);
      if (known != null && Files.isDirectory(known)) {
        return known;
      }
      if (Files.isDirectory(entry)) {
        String bad = verify(entry);
        if (bad == null) {
          VERIFIED.put(key, entry);
          log.accept("model " + uri + ": using the verified local copy " + entry);
          return entry;
        }
        log.accept(
            "model "
                + uri
                + ": the local copy "
                + entry
                + " is corrupt ("
                + bad
                + "); copying again");
        deleteTree(entry);
      }
      Files.createDirectories(root());
      Path staging = Files.createTempDirectory(root(), key + ".partial-");
      try {
        List<String> lines = new ArrayList<>();
        for (Map.Entry<String, FileStatus> f : files.entrySet()) {
          Path dst = staging.resolve(f.getKey());
          Files.createDirectories(dst.getParent());
          String sha = copy(fs, f.getValue().getPath(), dst);
          long size = Files.size(dst);
          if (size != f.getValue().getLen()) {
            throw new IOException(
                "copied "
                    + size
                    + " bytes of "
                    + f.getValue().getPath()
                    + " but it has "
                    + f.getValue().getLen());
          }
          lines.add(sha + " " + size + " " + f.getKey());
        }
        Files.write(staging.resolve(CHECKSUMS), lines, StandardCharsets.UTF_8);
        try {
          Files.move(staging, entry, StandardCopyOption.ATOMIC_MOVE);
          COPIES.incrementAndGet();
          log.accept(
              "model "
                  + uri
                  + ": copied "
                  + files.size()
                  + " files to "
                  + entry
                  + " (SHA-256 recorded)");
        } catch (FileAlreadyExistsException | java.nio.file.DirectoryNotEmptyException e) {
          // another executor on this host finished first: use its copy once it checks out
          deleteTree(staging);
          String bad = verify(entry);
          if (bad != null) {
            throw new IOException("the local copy " + entry + " is corrupt: " + bad);
          }
        } catch (AtomicMoveNotSupportedException e) {
          throw new IOException("the model cache " + root() + " cannot rename atomically", e);
        }
      } finally {
        if (Files.exists(staging)) {
          deleteTree(staging);
        }
      }
      VERIFIED.put(key, entry);
      return entry;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot copy model " + uri + ": " + e.getMessage(), e);
    }
  }

  /** Null when every file of {@code entry} matches {@value #CHECKSUMS}; else what does not. */
  static String verify(Path entry) throws IOException {
    Path sums = entry.resolve(CHECKSUMS);
    if (!Files.isRegularFile(sums)) {
      return "no " + CHECKSUMS;
    }
    for (String line : Files.readAllLines(sums, StandardCharsets.UTF_8)) {
      if (line.isBlank()) {
        continue;
      }
      String[] parts = line.split(" ", 3);
      Path f = entry.resolve(parts[2]);
      if (!Files.isRegularFile(f)) {
        return parts[2] + " is missing";
      }
      if (Files.size(f) != Long.parseLong(parts[1])) {
        return parts[2] + " has " + Files.size(f) + " bytes, expected " + parts[1];
      }
      if (!sha256(f).equals(parts[0])) {
        return parts[2] + " has a different SHA-256";
      }
    }
    return null;
  }

  private static Map<String, FileStatus> listFiles(FileSystem fs, org.apache.hadoop.fs.Path src)
      throws IOException {
    Map<String, FileStatus> files = new TreeMap<>();
    String base = fs.makeQualified(src).toUri().getPath();
    base = base.endsWith("/") ? base : base + "/";
    RemoteIterator<org.apache.hadoop.fs.LocatedFileStatus> it = fs.listFiles(src, true);
    while (it.hasNext()) {
      FileStatus st = it.next();
      String p = st.getPath().toUri().getPath();
      String rel = p.startsWith(base) ? p.substring(base.length()) : st.getPath().getName();
      String name = st.getPath().getName();
      if (name.startsWith(".") && name.endsWith(".crc")) {
        continue; // Hadoop's local checksum files
      }
      files.put(rel, st);
    }
    if (files.isEmpty()) {
      throw new IOException(src + " is empty");
    }
    return files;
  }

  private static String entryKey(String uri, Map<String, FileStatus> files) {
    StringBuilder sb = new StringBuilder(uri);
    for (Map.Entry<String, FileStatus> f : files.entrySet()) {
      sb.append('\n')
          .append(f.getKey())
          .append(' ')
          .append(f.getValue().getLen())
          .append(' ')
          .append(f.getValue().getModificationTime());
    }
    return HexFormat.of()
        .formatHex(digest().digest(sb.toString().getBytes(StandardCharsets.UTF_8)))
        .substring(0, 32);
  }

  private static String copy(FileSystem fs, org.apache.hadoop.fs.Path src, Path dst)
      throws IOException {
    MessageDigest md = digest();
    try (InputStream in = new DigestInputStream(fs.open(src), md);
        OutputStream out = Files.newOutputStream(dst)) {
      in.transferTo(out);
    }
    return HexFormat.of().formatHex(md.digest());
  }

  private static String sha256(Path f) throws IOException {
    MessageDigest md = digest();
    try (InputStream in = new DigestInputStream(Files.newInputStream(f), md)) {
      in.transferTo(OutputStream.nullOutputStream());
    }
    return HexFormat.of().formatHex(md.digest());
  }

  private static MessageDigest digest() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  private static void deleteTree(Path dir) throws IOException {
    if (!Files.exists(dir)) {
      return;
    }
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(java.util.Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    }
  }
}
