package dev.editforge.ingest;

import java.io.IOException;
import java.io.InputStream;
import java.nio.file.Files;
import java.nio.file.attribute.BasicFileAttributes;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.LocalFileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.fs.RawLocalFileSystem;
import org.apache.hadoop.io.compress.CompressionCodec;
import org.apache.hadoop.io.compress.CompressionCodecFactory;

/**
 * How ingest opens an input file: decompressed by the Hadoop codec its name implies ({@code .gz},
 * {@code .bz2}, …), the same choice {@code TextInputFormat} makes for line-based kinds, so the
 * format check, the SQuAD reader and the line splitter all see the same uncompressed text.
 * Stateless and thread-safe.
 */
final class InputFiles {
  private InputFiles() {}

  /** The codec for {@code path}'s name, or null for a plain file. */
  static CompressionCodec codec(Path path, Configuration conf) {
    return new CompressionCodecFactory(conf).getCodec(path);
  }

  /** Opens {@code path} decompressed; the caller closes the stream. */
  static InputStream open(FileSystem fs, Path path, Configuration conf) throws IOException {
    InputStream raw = fs.open(path);
    CompressionCodec codec = codec(path, conf);
    if (codec == null) {
      return raw;
    }
    try {
      return codec.createInputStream(raw);
    } catch (IOException | RuntimeException e) {
      raw.close();
      throw e;
    }
  }

  /**
   * Refuses a local path that is not a regular file or directory. Hadoop's local file system calls
   * a FIFO, a socket or a device a "file", and opening a FIFO blocks until something writes to it:
   * ingest would hang forever (issue 17, item 11). Other file systems (HDFS, object stores) hold
   * only files and directories.
   */
  static void requireRegular(FileSystem fs, Path path, String input) {
    if (!(fs instanceof LocalFileSystem || fs instanceof RawLocalFileSystem)) {
      return;
    }
    java.nio.file.Path local = java.nio.file.Path.of(fs.makeQualified(path).toUri());
    BasicFileAttributes attrs;
    try {
      attrs = Files.readAttributes(local, BasicFileAttributes.class);
    } catch (IOException e) {
      return; // Hadoop's own access reports it, with its own words
    }
    if (attrs.isRegularFile() || attrs.isDirectory()) {
      return;
    }
    throw new InputException(
        "input "
            + input
            + ": "
            + path
            + " is "
            + describe(local)
            + ", not a regular file; ingest reads only regular files (copy the data to a file)");
  }

  private static String describe(java.nio.file.Path p) {
    try {
      int mode = (Integer) Files.getAttribute(p, "unix:mode");
      return switch (mode & 0170000) {
        case 0010000 -> "a FIFO (named pipe)";
        case 0020000 -> "a character device";
        case 0060000 -> "a block device";
        case 0140000 -> "a socket";
        default -> "a special file";
      };
    } catch (IOException | UnsupportedOperationException | IllegalArgumentException e) {
      return "a special file (a FIFO, socket or device)";
    }
  }
}
