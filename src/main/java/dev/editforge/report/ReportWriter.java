package dev.editforge.report;

import dev.editforge.io.RunDir;
import java.io.IOException;
import java.io.OutputStream;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;

/**
 * Reads a run and writes its HTML report: {@code <run-dir>/report.html} by default, or any path
 * (local, HDFS, S3A). Stateless.
 */
public final class ReportWriter {
  public static final String FILE = "report.html";

  private ReportWriter() {}

  /**
   * @param out where to write; null for {@code <run-dir>/report.html}
   * @return where it was written, as a person would open it (a plain path when local)
   */
  public static String write(SparkSession spark, RunDir run, String out) {
    String html = HtmlReport.render(new RunReader(spark, run).read());
    Path target = out == null ? run.path(FILE) : RunDir.qualify(out);
    try {
      if ("file".equals(target.toUri().getScheme())) {
        writeLocal(java.nio.file.Path.of(target.toUri()), html);
        return RunReader.display(target);
      }
      FileSystem fs = target.getFileSystem(spark.sparkContext().hadoopConfiguration());
      fs.mkdirs(target.getParent());
      // written whole, then renamed: a browser refreshing mid-write never sees half a page
      Path tmp = new Path(target.getParent(), "." + target.getName() + ".tmp");
      try (OutputStream o = fs.create(tmp, true)) {
        o.write(html.getBytes(StandardCharsets.UTF_8));
      }
      fs.delete(target, false);
      if (!fs.rename(tmp, target)) {
        throw new IOException("rename " + tmp + " -> " + target + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the report to " + target, e);
    }
    return RunReader.display(target);
  }

  /**
   * Through java.nio rather than Hadoop's local file system, which leaves a .crc file beside it.
   */
  private static void writeLocal(java.nio.file.Path target, String html) throws IOException {
    java.nio.file.Files.createDirectories(target.toAbsolutePath().getParent());
    java.nio.file.Path tmp = target.resolveSibling("." + target.getFileName() + ".tmp");
    java.nio.file.Files.writeString(tmp, html, StandardCharsets.UTF_8);
    java.nio.file.Files.move(
        tmp,
        target,
        java.nio.file.StandardCopyOption.REPLACE_EXISTING,
        java.nio.file.StandardCopyOption.ATOMIC_MOVE);
  }
}
