package dev.editforge.io;

import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocatedFileStatus;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RemoteIterator;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.util.HadoopInputFile;

/**
 * What a committed table is made of, as its manifest records it: every data file (relative name and
 * byte size) and, for Parquet tables, the row count summed from the files' footers. Readers check a
 * table against that record before any work, so a deleted, added or truncated file is an exit-2
 * error naming the table and the file instead of a silently shorter table or a Spark stack trace.
 *
 * <p>Data files are what Spark and the index read: a file is hidden when any part of its path below
 * the table starts with {@code _} or {@code .} ({@code _manifest.json}, {@code _rejects/}, {@code
 * _SUCCESS}, checksum {@code .crc} files, Lucene's own {@code _N.*} segment files, which the
 * index's manifest checksums instead), the same rule Spark's file listing applies.
 *
 * <p>A manifest written before this record existed has no {@value #FILES}: such a table is checked
 * by reading each Parquet footer only (an unreadable or truncated file is still refused), and
 * carries the full record once it is rewritten. Stateless and thread-safe.
 */
public final class TableFiles {
  /** Manifest field: relative data file name → size in bytes. */
  public static final String FILES = "files";

  /** Manifest field: the table's row count from its Parquet footers (absent without Parquet). */
  public static final String ROWS = "rows";

  private TableFiles() {}

  /** Records {@code dir}'s data files and Parquet row count in {@code manifest}. */
  public static void record(FileSystem fs, Path dir, Manifest manifest) throws IOException {
    SortedMap<String, FileStatus> files = list(fs, dir);
    Map<String, Long> sizes = new TreeMap<>();
    files.forEach((name, st) -> sizes.put(name, st.getLen()));
    manifest.put(FILES, sizes);
    List<FileStatus> parquet = parquet(files);
    if (!parquet.isEmpty()) {
      long rows = 0;
      for (FileStatus st : parquet) {
        rows += rows(fs, st);
      }
      manifest.put(ROWS, rows);
    }
  }

  /**
   * Checks {@code dir} against {@code manifest}: every listed file present with its size, no
   * unlisted data file, every Parquet footer readable, and the rows adding up to the recorded
   * count.
   *
   * @param label how the message names the table, e.g. {@code "table articles in file:/runs/a"}
   * @param fix what the user can do, appended to the message
   * @throws UnusableInputException naming the table and the first file that does not match
   */
  public static void verify(FileSystem fs, Path dir, Manifest manifest, String label, String fix) {
    SortedMap<String, FileStatus> actual;
    try {
      actual = list(fs, dir);
    } catch (IOException e) {
      throw refused(label, "cannot be listed (" + oneLine(e) + ")", fix);
    }
    Map<String, Number> listed = files(manifest);
    if (listed != null) {
      for (Map.Entry<String, Number> e : listed.entrySet()) {
        FileStatus st = actual.get(e.getKey());
        long want = e.getValue().longValue();
        if (st == null) {
          throw refused(label, e.getKey() + " is missing (" + bytes(want) + " listed)", fix);
        }
        if (st.getLen() != want) {
          throw refused(
              label,
              e.getKey() + " has " + bytes(st.getLen()) + ", the manifest lists " + bytes(want),
              fix);
        }
      }
      for (String name : actual.keySet()) {
        if (!listed.containsKey(name)) {
          throw refused(label, name + " is not listed in it", fix);
        }
      }
    }
    long rows = 0;
    for (FileStatus st : parquet(actual)) {
      try {
        rows += rows(fs, st);
      } catch (IOException | RuntimeException e) {
        throw refused(
            label,
            relative(dir, st.getPath()) + " is not readable Parquet (" + oneLine(e) + ")",
            fix);
      }
    }
    Object want = manifest.get(ROWS);
    if (listed != null && want instanceof Number n && n.longValue() != rows) {
      throw refused(
          label,
          String.format(
              Locale.ROOT, "its files hold %,d rows, the manifest says %,d", rows, n.longValue()),
          fix);
    }
  }

  /** The recorded files, or null for a manifest written before they were recorded. */
  @SuppressWarnings("unchecked")
  public static Map<String, Number> files(Manifest manifest) {
    Object f = manifest.get(FILES);
    return f instanceof Map<?, ?> m ? (Map<String, Number>) m : null;
  }

  /** {@code dir}'s data files by relative name; empty when {@code dir} does not exist. */
  static SortedMap<String, FileStatus> list(FileSystem fs, Path dir) throws IOException {
    SortedMap<String, FileStatus> out = new TreeMap<>();
    if (!fs.exists(dir)) {
      return out;
    }
    // Qualified, so relative names come out right whatever form the caller's path has.
    Path base = fs.makeQualified(dir);
    RemoteIterator<LocatedFileStatus> it = fs.listFiles(base, true);
    while (it.hasNext()) {
      LocatedFileStatus st = it.next();
      String name = relative(base, st.getPath());
      if (!isHidden(name)) {
        out.put(name, st);
      }
    }
    return out;
  }

  static boolean isHidden(String relative) {
    for (String part : relative.split("/")) {
      if (part.startsWith("_") || part.startsWith(".")) {
        return true;
      }
    }
    return false;
  }

  private static String relative(Path base, Path file) {
    String b = base.toUri().getPath();
    String f = file.toUri().getPath();
    String prefix = b.endsWith("/") ? b : b + "/";
    return f.startsWith(prefix) ? f.substring(prefix.length()) : file.getName();
  }

  private static List<FileStatus> parquet(SortedMap<String, FileStatus> files) {
    List<FileStatus> out = new ArrayList<>();
    files.forEach(
        (name, st) -> {
          if (name.endsWith(".parquet")) {
            out.add(st);
          }
        });
    return out;
  }

  /** Reads only the footer: a few KB at the end of the file, whatever its size. */
  private static long rows(FileSystem fs, FileStatus st) throws IOException {
    try (ParquetFileReader r =
        ParquetFileReader.open(HadoopInputFile.fromStatus(st, fs.getConf()))) {
      return r.getRecordCount();
    }
  }

  private static UnusableInputException refused(String label, String what, String fix) {
    return new UnusableInputException(
        label + " does not match its " + RunDir.MANIFEST + ": " + what + "; " + fix);
  }

  private static String bytes(long n) {
    return String.format(Locale.ROOT, "%,d bytes", n);
  }

  private static String oneLine(Throwable e) {
    String m = String.valueOf(e.getMessage());
    int nl = m.indexOf('\n');
    return e.getClass().getSimpleName() + ": " + (nl < 0 ? m : m.substring(0, nl));
  }
}
