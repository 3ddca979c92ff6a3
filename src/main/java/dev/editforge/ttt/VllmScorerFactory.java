package dev.editforge.ttt;

import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigRenderOptions;
import dev.editforge.config.EditforgeSettings;
import dev.editforge.config.ScoreSettings;
import dev.editforge.io.Ids;
import dev.editforge.judge.Judge;
import dev.editforge.llm.ChatMessage;
import dev.editforge.llm.SamplingParams;
import dev.editforge.llm.remote.OpenAiClient;
import dev.editforge.llm.remote.RemoteSettings;
import java.util.List;

/**
 * {@code editforge.ttt.mode = vllm}: builds a {@link VllmEditScorer} per executor JVM. It ships the
 * resolved {@code editforge} config as text (settings records are not serializable) and rebuilds
 * the settings on the executor: the vLLM server and the llm judge's server come from {@code
 * editforge.remote}, the baseline's served name is {@code remote.model} or else {@code ttt.model}.
 * The LoRA trainer comes from {@code trainers}.
 */
public final class VllmScorerFactory implements EditScorerFactory {
  private static final long serialVersionUID = 1L;

  private final String config;
  private final String model;
  private final AdapterTrainer.Factory trainers;

  public VllmScorerFactory(EditforgeSettings settings, AdapterTrainer.Factory trainers) {
    this.config = settings.raw().root().render(ConfigRenderOptions.concise());
    this.model = ScoreSettings.from(settings).model();
    this.trainers = trainers;
  }

  @Override
  public String model() {
    return model;
  }

  @Override
  public String variant() {
    return Ids.of(config);
  }

  @Override
  public EditScorer create(ScoreDevice device) throws Exception {
    EditforgeSettings settings =
        EditforgeSettings.from(ConfigFactory.parseString(config).resolve());
    ScoreSettings s = ScoreSettings.from(settings);
    RemoteSettings remote = settings.remote();
    OpenAiClient client = new OpenAiClient(remote);
    Judge judge =
        settings
            .judge()
            .create(
                "llm".equals(settings.judge().kind())
                    ? prompt ->
                        client.chat(
                            settings.judge().llmModel(),
                            List.of(ChatMessage.user(prompt)),
                            SamplingParams.greedy(64))
                    : null);
    String served = remote.model() != null ? remote.model() : s.model();
    AdapterTrainer trainer;
    try {
      trainer = trainers.create(device);
    } catch (Exception | Error e) {
      client.close();
      throw e;
    }
    return new VllmEditScorer(client, served, trainer, judge, s.evalTimes(), s.seed());
  }
}
