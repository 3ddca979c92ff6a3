package dev.editforge.ttt;

import ai.djl.Device;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigRenderOptions;
import dev.editforge.config.EditforgeSettings;
import dev.editforge.io.Ids;
import dev.editforge.llm.DecoderLoader;
import dev.editforge.llm.LoadedDecoder;
import dev.editforge.spark.ModelDirs;
import dev.editforge.spark.RemoteModelCache;
import dev.editforge.spark.TaskResources;
import java.nio.file.Path;
import java.util.List;

/**
 * {@code editforge.ttt.mode = local}: one {@link LocalEditScorer} (base model + LoRA engine) per
 * executor JVM. It ships the resolved config as text, since settings records are not serializable,
 * and the model as a local directory resolved on the driver (hub ids go through the HF cache there)
 * or a Hadoop URI, copied once per executor machine into the local model cache ({@link
 * RemoteModelCache}).
 */
public final class LocalScorerFactory implements EditScorerFactory {
  private static final long serialVersionUID = 1L;

  private final String config;
  private final String modelDir;

  public LocalScorerFactory(EditforgeSettings settings, Path modelDir) {
    this(settings, modelDir.toAbsolutePath().toString());
  }

  /**
   * A factory for the model at {@code modelDir}: a local directory, or a Hadoop URI (hdfs://,
   * s3a://, file://) that each executor copies once into its local model cache.
   */
  public LocalScorerFactory(EditforgeSettings settings, String modelDir) {
    this.config = settings.raw().root().render(ConfigRenderOptions.concise());
    this.modelDir = modelDir;
  }

  @Override
  public String model() {
    return modelDir;
  }

  @Override
  public String variant() {
    return Ids.of(config);
  }

  /** The GPU asked for when CUDA can use it, else the CPU (one warning per JVM). */
  private static Device djlDevice(ScoreDevice device) {
    return device.isGpu() ? TaskResources.usableDevice(device.gpu(), "score") : Device.cpu();
  }

  @Override
  public String deviceUsed(EditScorer scorer, ScoreDevice requested) {
    return djlDevice(requested).toString();
  }

  @Override
  public EditScorer create(ScoreDevice device) {
    EditforgeSettings settings =
        EditforgeSettings.from(ConfigFactory.parseString(config).resolve());
    Device djl = djlDevice(device);
    ConfiguredJudge judge = ConfiguredJudge.of(settings);
    LoadedDecoder decoder =
        DecoderLoader.load(
            RemoteModelCache.isHadoopUri(modelDir)
                ? ModelDirs.localize(modelDir, m -> {})
                : Path.of(modelDir),
            djl,
            settings.llm());
    LocalEditScorer scorer = new LocalEditScorer(decoder, settings.ttt(), judge.judge());
    // This factory is the owner of the decoder and the judge's client: the scorer only borrows
    // them.
    return new EditScorer() {
      @Override
      public List<TttResult> score(TttArticle article, List<TttEdit> edits) {
        return scorer.score(article, edits);
      }

      @Override
      public List<TttResult> score(
          TttArticle article, List<TttEdit> edits, List<String> baselineAnswers) {
        return scorer.score(article, edits, baselineAnswers);
      }

      @Override
      public void close() {
        try {
          scorer.close();
          decoder.close();
        } finally {
          judge.close();
        }
      }
    };
  }
}
