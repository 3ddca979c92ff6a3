package dev.editforge.llm;

import java.util.ArrayList;
import java.util.List;

/**
 * GPT-2's byte-level BPE alphabet: each of the 256 byte values has a printable stand-in character,
 * which is how byte-level {@code tokenizer.json} vocabularies (Llama 3, Qwen2) spell tokens. Used
 * to write small real tokenizers for generated models.
 */
public final class ByteLevel {
  private static final List<Integer> BYTES = new ArrayList<>();
  private static final List<Integer> CHARS = new ArrayList<>();

  static {
    for (int b = '!'; b <= '~'; b++) {
      BYTES.add(b);
    }
    for (int b = 0xA1; b <= 0xAC; b++) {
      BYTES.add(b);
    }
    for (int b = 0xAE; b <= 0xFF; b++) {
      BYTES.add(b);
    }
    CHARS.addAll(BYTES);
    int n = 0;
    for (int b = 0; b < 256; b++) {
      if (!BYTES.contains(b)) {
        BYTES.add(b);
        CHARS.add(256 + n++);
      }
    }
  }

  private ByteLevel() {}

  /**
   * The 256 stand-ins in GPT-2's table order (printable bytes first), as vocabularies list them.
   */
  public static char[] alphabet() {
    char[] out = new char[256];
    for (int i = 0; i < 256; i++) {
      out[i] = (char) (int) CHARS.get(i);
    }
    return out;
  }

  /** The stand-in of each byte value: {@code byByte()[b]}. */
  public static char[] byByte() {
    char[] out = new char[256];
    for (int i = 0; i < 256; i++) {
      out[BYTES.get(i)] = (char) (int) CHARS.get(i);
    }
    return out;
  }
}
