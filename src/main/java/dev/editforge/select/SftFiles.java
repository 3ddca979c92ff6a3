package dev.editforge.select;

import dev.editforge.io.SftRow;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * {@link SftExport} onto any Hadoop file system: a local directory is written in place; on HDFS or
 * S3 the files are written to a local temporary directory and copied up (an existing {@code
 * dataset_info.json} is fetched first, so its other entries are kept).
 */
public final class SftFiles {
  private SftFiles() {}

  /** The file names one export writes into its directory. */
  public static List<String> fileNames(SftExport.Settings settings) {
    List<String> names = new ArrayList<>();
    for (SftExport.Format f : settings.formats()) {
      switch (f) {
        case JSONL -> names.add(settings.name() + ".jsonl");
        case MESSAGES -> names.add(settings.name() + "_messages.jsonl");
        case ALPACA -> names.add(settings.name() + "_alpaca.json");
      }
    }
    if (settings.writesDatasetInfo()) {
      names.add(SftExport.DATASET_INFO);
    }
    return names;
  }

  /** Writes every format of {@code settings} into {@code dir}; returns the paths written. */
  public static List<Path> write(
      List<SftRow> rows, Path dir, SftExport.Settings settings, Configuration conf) {
    try {
      FileSystem fs = dir.getFileSystem(conf);
      List<Path> written = new ArrayList<>();
      if ("file".equals(fs.getUri().getScheme())) {
        for (java.nio.file.Path p :
            SftExport.write(rows, java.nio.file.Path.of(fs.makeQualified(dir).toUri()), settings)) {
          written.add(new Path(p.toUri()));
        }
        return written;
      }
      java.nio.file.Path tmp = Files.createTempDirectory("editforge-export");
      try {
        Path info = new Path(dir, SftExport.DATASET_INFO);
        if (settings.writesDatasetInfo() && fs.exists(info)) {
          fs.copyToLocalFile(
              false, info, new Path(tmp.resolve(SftExport.DATASET_INFO).toUri()), true);
        }
        fs.mkdirs(dir);
        for (java.nio.file.Path p : SftExport.write(rows, tmp, settings)) {
          Path target = new Path(dir, p.getFileName().toString());
          fs.copyFromLocalFile(false, true, new Path(p.toUri()), target);
          written.add(target);
        }
      } finally {
        try (Stream<java.nio.file.Path> all = Files.walk(tmp)) {
          for (java.nio.file.Path p : all.sorted(Comparator.reverseOrder()).toList()) {
            Files.deleteIfExists(p);
          }
        }
      }
      return written;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the SFT export into " + dir, e);
    }
  }
}
