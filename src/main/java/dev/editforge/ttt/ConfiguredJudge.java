package dev.editforge.ttt;

import dev.editforge.config.EditforgeSettings;
import dev.editforge.judge.Judge;
import dev.editforge.llm.ChatMessage;
import dev.editforge.llm.SamplingParams;
import dev.editforge.llm.remote.OpenAiClient;
import java.util.List;

/**
 * The configured {@code editforge.judge} with, for the LLM judge, the client it talks through. The
 * one place score builds its judge, for the scorer and for re-judging stored answers. The owner
 * closes it (which closes the client); not thread-safe when the client is not.
 */
final class ConfiguredJudge implements AutoCloseable {
  private final Judge judge;
  private final OpenAiClient client;

  private ConfiguredJudge(Judge judge, OpenAiClient client) {
    this.judge = judge;
    this.client = client;
  }

  static ConfiguredJudge of(EditforgeSettings settings) {
    OpenAiClient client =
        "llm".equals(settings.judge().kind()) ? new OpenAiClient(settings.remote()) : null;
    Judge judge =
        settings
            .judge()
            .create(
                client == null
                    ? null
                    : prompt ->
                        client.chat(
                            settings.judge().llmModel(),
                            List.of(ChatMessage.user(prompt)),
                            SamplingParams.greedy(64)));
    return new ConfiguredJudge(judge, client);
  }

  Judge judge() {
    return judge;
  }

  @Override
  public void close() {
    if (client != null) {
      client.close();
    }
  }
}
