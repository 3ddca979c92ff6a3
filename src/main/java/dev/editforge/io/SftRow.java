package dev.editforge.io;

import dev.editforge.llm.ChatMessage;
import java.util.List;

/**
 * One row of the {@code sft} table. {@code prompt}/{@code completion} are what TRL's
 * prompt-completion trainers read (for a self-edit: SEAL's generation prompt and the stripped
 * edit); {@code messages} is the same example as a conversation for chat trainers, ending with the
 * assistant turn that equals {@code completion}. {@code score} is what the row was selected by
 * (mean adapter accuracy for self-edits, vote share for reasoning), null where nothing scores it.
 */
public record SftRow(
    String prompt,
    String completion,
    List<ChatMessage> messages,
    SftSource source,
    String originId,
    Double score) {

  public SftRow {
    if (prompt == null || completion == null || source == null) {
      throw new IllegalArgumentException("an sft row needs prompt, completion and source");
    }
    messages = List.copyOf(messages);
    if (messages.isEmpty()
        || !"assistant".equals(messages.get(messages.size() - 1).role())
        || !completion.equals(messages.get(messages.size() - 1).content())) {
      throw new IllegalArgumentException(
          "an sft row's messages must end with the assistant turn equal to its completion");
    }
  }

  /** A single exchange: the user says {@code prompt}, the assistant answers {@code completion}. */
  public static SftRow exchange(
      String prompt, String completion, SftSource source, String originId, Double score) {
    return new SftRow(
        prompt,
        completion,
        List.of(ChatMessage.user(prompt), ChatMessage.assistant(completion)),
        source,
        originId,
        score);
  }

  /** The system message's content, or null when the conversation has none. */
  public String system() {
    ChatMessage first = messages.get(0);
    return "system".equals(first.role()) ? first.content() : null;
  }
}
