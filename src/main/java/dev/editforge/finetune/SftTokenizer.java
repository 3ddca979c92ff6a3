package dev.editforge.finetune;

import dev.editforge.io.SftRow;
import dev.editforge.llm.ChatMessage;
import dev.editforge.llm.ChatTemplate;
import dev.editforge.llm.LlmTokenizer;
import dev.editforge.lora.TokenizedSample;
import java.util.List;

/**
 * {@code sft} rows to {@link TokenizedSample}s, the way TRL's SFTTrainer prepares them.
 *
 * <ul>
 *   <li>With a chat template (the model's own, or a built-in for a base model): the row's {@code
 *       messages} without the final assistant turn are rendered with the generation prompt (the
 *       prompt part), the whole conversation without it (the full text); the completion part is the
 *       full text after the prompt. Both are tokenized without adding special tokens (the template
 *       carries them, as in {@code apply_chat_template}).
 *   <li>Without one ({@code template == null}): TRL's prompt-completion format, {@code
 *       tokenizer(prompt)} (special tokens added) followed by {@code tokenizer(completion)} without
 *       them and the EOS token.
 * </ul>
 *
 * Prompt and completion are tokenized separately and concatenated, so the boundary is exact. {@code
 * completionOnly}: prompt labels are IGNORE (TRL's {@code completion_only_loss}); else every token
 * is a label.
 */
public final class SftTokenizer {
  private final LlmTokenizer tokenizer;
  private final ChatTemplate template;
  private final boolean completionOnly;

  public SftTokenizer(LlmTokenizer tokenizer, ChatTemplate template, boolean completionOnly) {
    this.tokenizer = tokenizer;
    this.template = template;
    this.completionOnly = completionOnly;
  }

  /** The prompt and completion strings a row trains on, before tokenization. */
  public record Text(String prompt, String completion) {}

  public Text text(SftRow row) {
    if (template == null) {
      return new Text(row.prompt(), row.completion());
    }
    List<ChatMessage> messages = row.messages();
    String prompt = template.render(messages.subList(0, messages.size() - 1), true);
    String full = template.render(messages, false);
    if (!full.startsWith(prompt)) {
      throw new IllegalArgumentException(
          "chat template "
              + template.name()
              + " renders the conversation so that it does not start with its generation prompt; "
              + "completion-only loss cannot find the completion (choose another editforge.finetune.chat-template)");
    }
    return new Text(prompt, full.substring(prompt.length()));
  }

  public TokenizedSample tokenize(SftRow row) {
    Text t = text(row);
    int[] prompt;
    int[] completion;
    if (template == null) {
      prompt = tokenizer.encode(t.prompt(), true);
      int[] body = tokenizer.encode(t.completion(), false);
      int eos = tokenizer.eosTokenId();
      completion = eos >= 0 ? append(body, eos) : body;
    } else {
      prompt = tokenizer.encode(t.prompt(), false);
      completion = tokenizer.encode(t.completion(), false);
    }
    int[] ids = new int[prompt.length + completion.length];
    System.arraycopy(prompt, 0, ids, 0, prompt.length);
    System.arraycopy(completion, 0, ids, prompt.length, completion.length);
    int[] labels = ids.clone();
    if (completionOnly) {
      java.util.Arrays.fill(labels, 0, prompt.length, TokenizedSample.IGNORE);
    }
    return new TokenizedSample(ids, labels);
  }

  /**
   * How many leading tokens of {@link #tokenize}'s sample are the prompt (the completion starts
   * there, whatever the loss setting).
   */
  public int promptLength(SftRow row) {
    Text t = text(row);
    return template == null
        ? tokenizer.encode(t.prompt(), true).length
        : tokenizer.encode(t.prompt(), false).length;
  }

  public List<TokenizedSample> tokenize(List<SftRow> rows) {
    return rows.stream().map(this::tokenize).toList();
  }

  private static int[] append(int[] a, int x) {
    int[] out = java.util.Arrays.copyOf(a, a.length + 1);
    out[a.length] = x;
    return out;
  }
}
