package dev.editforge.spark;

import dev.editforge.llm.hub.HubClient;
import dev.editforge.llm.hub.HubSettings;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;

/**
 * Model references as the driver writes them and a task resolves them: a local directory (made
 * absolute on the driver), a Hadoop URI (hdfs://, s3a://: copied to a local temporary directory in
 * the task, e.g. a previous run's {@code finetune/merged}) or a hub id (resolved through the
 * Hugging Face cache by {@link HubClient}).
 */
public final class ModelDirs {
  private ModelDirs() {}

  /**
   * On the driver: an existing local directory becomes absolute; anything else is kept as written.
   */
  public static String normalize(String ref) {
    if (ref == null || ref.isBlank()) {
      return ref;
    }
    if (ref.startsWith("file:")) {
      return Path.of(URI.create(ref)).toAbsolutePath().normalize().toString();
    }
    if (!ref.contains("://")) {
      Path p = Path.of(ref);
      if (Files.isDirectory(p)) {
        return p.toAbsolutePath().normalize().toString();
      }
    }
    return ref;
  }

  /** In the task: the local directory holding the model. */
  public static Path localize(
      String ref, Configuration conf, java.util.function.Consumer<String> log) {
    if (ref.contains("://")) {
      try {
        org.apache.hadoop.fs.Path src = new org.apache.hadoop.fs.Path(ref);
        Path local = Files.createTempDirectory("editforge-model-");
        Files.delete(local);
        src.getFileSystem(conf)
            .copyToLocalFile(false, src, new org.apache.hadoop.fs.Path(local.toUri()), true);
        log.accept("copied model " + ref + " to " + local);
        return local;
      } catch (IOException e) {
        throw new UncheckedIOException("cannot copy model " + ref, e);
      }
    }
    try (HubClient hub = new HubClient(HubSettings.fromEnvironment(), log)) {
      return hub.resolve(ref);
    }
  }
}
