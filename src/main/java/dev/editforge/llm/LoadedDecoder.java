package dev.editforge.llm;

import java.util.LinkedHashSet;
import java.util.Set;

/**
 * A decoder ready to generate: weights, tokenizer and the ids that end a completion. Owns both
 * (closing it closes them). Thread-safe, as its parts are; see {@link DecoderLoader}.
 */
public final class LoadedDecoder implements AutoCloseable {
  private final DecoderModel model;
  private final LlmTokenizer tokenizer;
  private final String name;

  public LoadedDecoder(DecoderModel model, LlmTokenizer tokenizer, String name) {
    this.model = model;
    this.tokenizer = tokenizer;
    this.name = name;
  }

  public DecoderModel model() {
    return model;
  }

  public LlmTokenizer tokenizer() {
    return tokenizer;
  }

  /** The directory name, or the name the loader was given (a hub id). */
  public String name() {
    return name;
  }

  /** config.json's and generation_config.json's eos ids plus the tokenizer's eos token. */
  public Set<Integer> eosTokenIds() {
    Set<Integer> ids = new LinkedHashSet<>(model.config().eosTokenIds());
    if (tokenizer.eosTokenId() >= 0) {
      ids.add(tokenizer.eosTokenId());
    }
    return ids;
  }

  /**
   * The template chat requests are rendered with: the model's own for {@code "model"}, else the
   * named built-in. Throws when {@code "model"} is asked of a model that ships no template.
   */
  public ChatTemplate chatTemplate(String setting) {
    if (setting.equals("model")) {
      if (tokenizer.chatTemplate() == null) {
        throw new ChatTemplate.ChatTemplateException(
            name
                + " has no chat_template in tokenizer_config.json; set editforge.llm.chat-template to one of "
                + String.join(", ", ChatTemplate.BUILT_IN_NAMES));
      }
      return ChatTemplate.of(tokenizer.chatTemplate(), tokenizer.bosToken(), tokenizer.eosToken());
    }
    return ChatTemplate.builtIn(setting, tokenizer.bosToken(), tokenizer.eosToken());
  }

  @Override
  public void close() {
    try {
      tokenizer.close();
    } finally {
      model.close();
    }
  }
}
