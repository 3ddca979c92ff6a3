package dev.editforge.spark;

import dev.editforge.config.EditforgeSettings;
import dev.editforge.io.UnusableInputException;
import dev.editforge.llm.hub.HubClient;
import dev.editforge.llm.hub.HubSettings;
import dev.editforge.llm.hub.ModelRef;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;

/**
 * The {@code --dry-run} check of a stage's model: a local directory (or Hadoop URI) with {@code
 * config.json} and safetensors weights, or a hub id whose snapshot is complete in the Hugging Face
 * cache. Nothing is downloaded or copied, so a scheduled run learns at planning time that its model
 * is not where the cluster can load it, instead of after the stages before it have run.
 */
public final class ModelCheck {
  /** The setting (below {@code editforge.}) holding each stage's model. */
  private static final Map<String, String> MODEL_KEYS =
      Map.of(
          "generate", "generate.model",
          "score", "ttt.model",
          "finetune", "finetune.model",
          "evaluate", "evaluate.model",
          "continual", "continual.model");

  private ModelCheck() {}

  /**
   * Checks the model {@code stage} would load, if it has one configured (a blank model is the
   * stage's own business: it says what is missing when planned).
   *
   * @throws UnusableInputException naming the setting, the model and what is missing (exit 2)
   */
  public static void requireLoadable(String stage, EditforgeSettings settings, Configuration conf) {
    String key = MODEL_KEYS.get(stage);
    if (key == null) {
      return;
    }
    if (stage.equals("generate") && !settings.generate().local()) {
      return; // a served model name: the server resolves it
    }
    String section = key.substring(0, key.indexOf('.'));
    String name = key.substring(key.indexOf('.') + 1);
    var c = settings.section(section);
    String ref = c.hasPath(name) ? c.getString(name).strip() : "";
    if (ref.isEmpty()) {
      return;
    }
    String problem = problem(ref, conf);
    if (problem != null) {
      throw new UnusableInputException(
          stage + ": model " + ref + " (editforge." + key + "): " + problem);
    }
  }

  /** What keeps {@code ref} from loading without a download, or null when it is loadable. */
  static String problem(String ref, Configuration conf) {
    if (ref.contains("://") && !ref.startsWith("file:")) {
      return hadoopProblem(ref, conf);
    }
    String local = ref.startsWith("file:") ? Path.of(java.net.URI.create(ref)).toString() : ref;
    ModelRef parsed = ModelRef.parse(local);
    if (parsed instanceof ModelRef.LocalDir dir) {
      return localProblem(dir.dir().toAbsolutePath().normalize());
    }
    try (HubClient hub = new HubClient(HubSettings.fromEnvironment(), line -> {})) {
      return hub.cachedSnapshot((ModelRef.HubRepo) parsed).isPresent()
          ? null
          : "not in the Hugging Face cache "
              + hub.cache().repoDir((ModelRef.HubRepo) parsed)
              + " (a dry run never downloads; download it once, or point HF_HUB_CACHE at a cache"
              + " that has it)";
    }
  }

  private static String localProblem(Path dir) {
    if (!Files.isDirectory(dir)) {
      return "directory " + dir + " does not exist";
    }
    List<String> names;
    try (Stream<Path> s = Files.list(dir)) {
      names = s.map(p -> p.getFileName().toString()).toList();
    } catch (IOException e) {
      return "cannot list " + dir + ": " + e.getMessage();
    }
    return missing(dir.toString(), names);
  }

  private static String hadoopProblem(String ref, Configuration conf) {
    org.apache.hadoop.fs.Path dir = new org.apache.hadoop.fs.Path(ref);
    try {
      FileSystem fs = dir.getFileSystem(conf);
      if (!fs.getFileStatus(dir).isDirectory()) {
        return ref + " is not a directory";
      }
      List<String> names =
          Stream.of(fs.listStatus(dir)).map(FileStatus::getPath).map(p -> p.getName()).toList();
      return missing(ref, names);
    } catch (java.io.FileNotFoundException e) {
      return ref + " does not exist";
    } catch (IOException e) {
      return "cannot read " + ref + ": " + e.getMessage();
    }
  }

  private static String missing(String where, List<String> names) {
    if (!names.contains("config.json")) {
      return where + " has no config.json";
    }
    if (names.stream().noneMatch(n -> n.endsWith(".safetensors"))) {
      return where + " has no *.safetensors weights";
    }
    return null;
  }
}
