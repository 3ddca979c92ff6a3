package dev.editforge.ttt;

import dev.editforge.config.EditforgeSettings;
import dev.editforge.config.ScoreSettings;
import dev.editforge.config.SettingsException;
import dev.editforge.llm.hub.HubClient;
import dev.editforge.llm.hub.HubSettings;
import dev.editforge.spark.RemoteModelCache;

/**
 * The {@link EditScorerFactory} that {@code editforge score} uses for the configured {@code
 * editforge.ttt.mode}. This is the one place the LoRA engine plugs in:
 *
 * <ul>
 *   <li>local: a serializable factory whose {@code create(ScoreDevice)} builds {@code
 *       LocalEditScorer} on that device (e.g. {@code new LocalScorerFactory(settings)} carrying the
 *       rendered config, as {@link VllmScorerFactory} does);
 *   <li>vllm: {@code new VllmScorerFactory(settings, device -> new <trainer>(...))}, the trainer
 *       saving PEFT adapters where the vLLM server can read them.
 * </ul>
 */
public final class ScorerFactories {
  private ScorerFactories() {}

  public static EditScorerFactory forSettings(EditforgeSettings settings, ScoreSettings score) {
    switch (score.mode()) {
      case LOCAL:
        if (RemoteModelCache.isHadoopUri(score.model())) {
          return new LocalScorerFactory(settings, score.model());
        }
        try (HubClient hub = new HubClient(HubSettings.fromEnvironment())) {
          return new LocalScorerFactory(settings, hub.resolve(score.model()));
        }
      case VLLM:
        throw new SettingsException(
            "editforge.ttt.mode",
            "vllm",
            "vLLM scoring needs the LoRA trainer to save adapters, which is not part of this build");
      default:
        throw new IllegalStateException("unknown mode " + score.mode());
    }
  }
}
