package dev.editforge.llm;

import java.util.List;

/**
 * One prompt to complete. Exactly one of {@code prompt} (raw text, used as is) and {@code messages}
 * (a conversation rendered through the model's chat template with the generation prompt added) is
 * set.
 */
public record GenerationRequest(
    String id, String prompt, List<ChatMessage> messages, SamplingParams sampling) {
  public GenerationRequest {
    if ((prompt == null) == (messages == null)) {
      throw new IllegalArgumentException(
          "request " + id + ": set exactly one of prompt and messages");
    }
    messages = messages == null ? null : List.copyOf(messages);
  }

  public static GenerationRequest text(String id, String prompt, SamplingParams sampling) {
    return new GenerationRequest(id, prompt, null, sampling);
  }

  public static GenerationRequest chat(
      String id, List<ChatMessage> messages, SamplingParams sampling) {
    return new GenerationRequest(id, null, messages, sampling);
  }

  public boolean isChat() {
    return messages != null;
  }
}
