package dev.editforge.spark;

import dev.editforge.llm.hub.HubClient;
import dev.editforge.llm.hub.HubSettings;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import org.apache.hadoop.conf.Configuration;

/**
 * Model references as the driver writes them and a task resolves them: a local directory (made
 * absolute on the driver), a Hadoop URI (hdfs://, s3a://: copied once per machine into {@link
 * RemoteModelCache}, e.g. a previous run's {@code finetune/merged}) or a hub id (resolved through
 * the Hugging Face cache by {@link HubClient}).
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

  /**
   * In the task: the local directory holding the model. A Hadoop URI (hdfs://, s3a://, file://) is
   * copied once per machine into {@link RemoteModelCache} and verified by SHA-256; a hub id
   * resolves through the Hugging Face cache; a local path is used as is.
   */
  public static Path localize(
      String ref, Configuration conf, java.util.function.Consumer<String> log) {
    if (RemoteModelCache.isHadoopUri(ref)) {
      return RemoteModelCache.localize(ref, conf, log);
    }
    try (HubClient hub = new HubClient(HubSettings.fromEnvironment(), log)) {
      return hub.resolve(ref);
    }
  }

  /**
   * {@link #localize(String, Configuration, java.util.function.Consumer)} with the Hadoop
   * configuration of the running JVM: on an executor, Hadoop's defaults plus the application's
   * {@code spark.hadoop.*} settings (which is what the driver's configuration is built from).
   */
  public static Path localize(String ref, java.util.function.Consumer<String> log) {
    return localize(ref, executorConf(), log);
  }

  /** Hadoop's defaults plus {@code spark.hadoop.*} from the running SparkEnv (if any). */
  public static Configuration executorConf() {
    Configuration conf = new Configuration();
    org.apache.spark.SparkEnv env = org.apache.spark.SparkEnv.get();
    if (env != null) {
      for (scala.Tuple2<String, String> kv : env.conf().getAll()) {
        if (kv._1().startsWith("spark.hadoop.")) {
          conf.set(kv._1().substring("spark.hadoop.".length()), kv._2());
        }
      }
    }
    return conf;
  }
}
