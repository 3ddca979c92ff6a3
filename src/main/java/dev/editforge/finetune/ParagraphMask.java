package dev.editforge.finetune;

import dev.editforge.lora.TokenizedSample;
import java.util.Arrays;

/**
 * Self-RAG's loss mask for retrieved passages (retrieval_lm/finetune.py:250-292): the tokens of a
 * passage, between a {@code <paragraph>} and its {@code </paragraph>}, are not the model's to
 * predict, so their labels become IGNORE; the two markup tokens themselves stay trained, so the
 * model learns to open and close passages. Only the completion is searched (from {@code from}, the
 * prompt's length).
 *
 * <ul>
 *   <li>{@link Mode#PER_PARAGRAPH} (the default, what the paper intends): each passage span is
 *       masked on its own; text between passages ({@code [Relevant]}, the answer segment, {@code
 *       [Fully supported]}, the next {@code [Retrieval]}) is trained. A passage cut off by
 *       truncation (no closing token) is masked to the end.
 *   <li>{@link Mode#FIRST_TO_LAST} (Self-RAG as written, issue #95): from the first {@code
 *       <paragraph>}, the end is the <em>last</em> {@code </paragraph>} of the row (the search does
 *       not stop at the first), else the last position, and everything in between leaves the loss
 *       at once; the in-place edit hides later {@code <paragraph>}s from the scan. With several
 *       passages the answer segments between them are never trained.
 *   <li>{@link Mode#OFF}: no masking.
 * </ul>
 *
 * Stateless; thread-safe.
 */
public final class ParagraphMask {
  /** How passage spans leave the loss. */
  public enum Mode {
    PER_PARAGRAPH,
    FIRST_TO_LAST,
    OFF;

    /** {@code per-paragraph}, {@code first-to-last} or {@code off}. */
    public static Mode parse(String wire) {
      return valueOf(wire.toUpperCase(java.util.Locale.ROOT).replace('-', '_'));
    }
  }

  private final Mode mode;
  private final int open;
  private final int close;

  /**
   * @param open the id of {@code <paragraph>}, -1 if the tokenizer has none (then nothing is
   *     masked)
   * @param close the id of {@code </paragraph>}, -1 if none
   */
  public ParagraphMask(Mode mode, int open, int close) {
    this.mode = mode;
    this.open = open;
    this.close = close;
  }

  /** False when masking is off or the tokenizer lacks a markup token (a no-op then). */
  public boolean active() {
    return mode != Mode.OFF && open >= 0 && close >= 0;
  }

  /** {@code sample} with its passage spans at or after {@code from} masked from the loss. */
  public TokenizedSample apply(TokenizedSample sample, int from) {
    if (!active()) {
      return sample;
    }
    int[] labels =
        mode == Mode.PER_PARAGRAPH
            ? perParagraph(sample.inputIds(), sample.labels(), from, open, close)
            : firstToLast(sample.labels(), from, open, close);
    return new TokenizedSample(sample.inputIds(), labels);
  }

  static int[] perParagraph(int[] ids, int[] labels, int from, int open, int close) {
    int[] out = labels.clone();
    int n = ids.length;
    int j = Math.max(0, from);
    while (j < n) {
      if (ids[j] != open) {
        j++;
        continue;
      }
      int end = j + 1;
      while (end < n && ids[end] != close) {
        end++;
      }
      Arrays.fill(out, j + 1, end, TokenizedSample.IGNORE);
      j = end + 1;
    }
    return out;
  }

  /**
   * finetune.py's loop, kept as written: it scans the labels it edits, so a {@code <paragraph>}
   * inside an already masked span is never seen again. Prompt labels are IGNORE there, which is why
   * only the completion counts; {@code from} does that here whatever the loss setting.
   */
  static int[] firstToLast(int[] labels, int from, int open, int close) {
    int[] out = labels.clone();
    int n = out.length;
    for (int j = Math.max(0, from); j < n; j++) {
      if (out[j] != open) {
        continue;
      }
      int start = j + 1;
      int end = n - 1;
      for (int k = start; k < n; k++) {
        if (out[k] == close) {
          end = k;
        }
      }
      if (start < end) {
        Arrays.fill(out, start, end, TokenizedSample.IGNORE);
      }
    }
    return out;
  }
}
