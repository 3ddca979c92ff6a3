package dev.editforge.llm;

import java.util.Arrays;

/**
 * The text of a growing completion, decoded in the context of the prompt's last tokens so that
 * tokenizers which strip a leading space or merge bytes across tokens (SentencePiece, byte-level
 * BPE) give exactly {@code decode(prompt + completion)} minus {@code decode(prompt)}: the
 * completion keeps its leading space, and a character split over several tokens appears once it is
 * complete. Not thread-safe; one per generated sequence.
 */
final class IncrementalDetokenizer {
  /** Enough context for any merge or space rule to see the boundary. */
  private static final int CONTEXT_TOKENS = 6;

  private final LlmTokenizer tokenizer;
  private final boolean skipSpecial;
  private final int[] context;
  private final String contextText;
  private int[] ids = new int[16];
  private int size;

  IncrementalDetokenizer(LlmTokenizer tokenizer, int[] prompt) {
    this(tokenizer, prompt, true);
  }

  /** {@code skipSpecial=false} keeps special and added tokens (Self-RAG's reflection tokens). */
  IncrementalDetokenizer(LlmTokenizer tokenizer, int[] prompt, boolean skipSpecial) {
    this.tokenizer = tokenizer;
    this.skipSpecial = skipSpecial;
    this.context =
        Arrays.copyOfRange(prompt, Math.max(0, prompt.length - CONTEXT_TOKENS), prompt.length);
    this.contextText = tokenizer.decode(context, skipSpecial);
  }

  void append(int id) {
    if (size == ids.length) {
      ids = Arrays.copyOf(ids, size * 2);
    }
    ids[size++] = id;
  }

  /** The completion so far, special tokens skipped unless asked to keep them. */
  String text() {
    int[] all = new int[context.length + size];
    System.arraycopy(context, 0, all, 0, context.length);
    System.arraycopy(ids, 0, all, context.length, size);
    String full = tokenizer.decode(all, skipSpecial);
    if (full.startsWith(contextText)) {
      return full.substring(contextText.length());
    }
    return tokenizer.decode(Arrays.copyOf(ids, size), skipSpecial);
  }
}
