package dev.editforge.finetune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertSame;

import dev.editforge.lora.TokenizedSample;
import org.junit.jupiter.api.Test;

class ParagraphMaskTest {
  // Token ids: O = <paragraph>, C = </paragraph>, R = [Retrieval], V = [Relevant], S = [Fully
  // supported], E = </s>; 1..9 are text.
  static final int O = 100;
  static final int C = 101;
  static final int R = 102;
  static final int V = 103;
  static final int S = 104;
  static final int E = 2;
  static final int X = TokenizedSample.IGNORE;

  static TokenizedSample sample(int promptLength, int... ids) {
    int[] labels = ids.clone();
    java.util.Arrays.fill(labels, 0, promptLength, X);
    return new TokenizedSample(ids, labels);
  }

  static int[] labels(ParagraphMask.Mode mode, TokenizedSample s, int from) {
    return new ParagraphMask(mode, O, C).apply(s, from).labels();
  }

  @Test
  void onePassageLeavesTheLossButItsMarkupStaysTrained() {
    // prompt: 1 2 | completion: [Retrieval] <paragraph> 3 4 </paragraph> [Relevant] 5 [Fully] </s>
    TokenizedSample s = sample(2, 1, 2, R, O, 3, 4, C, V, 5, S, E);
    int[] want = {X, X, R, O, X, X, C, V, 5, S, E};
    assertArrayEquals(want, labels(ParagraphMask.Mode.PER_PARAGRAPH, s, 2));
    assertArrayEquals(want, labels(ParagraphMask.Mode.FIRST_TO_LAST, s, 2), "same for one passage");
  }

  @Test
  void severalPassagesAreMaskedEachOnItsOwnByDefaultAndAsOneSpanAsWritten() {
    // two retrieved passages, an answer segment after each
    TokenizedSample s = sample(1, 1, R, O, 3, 4, C, V, 5, 6, S, R, O, 7, C, V, 8, S, E);
    int[] perParagraph = {X, R, O, X, X, C, V, 5, 6, S, R, O, X, C, V, 8, S, E};
    assertArrayEquals(perParagraph, labels(ParagraphMask.Mode.PER_PARAGRAPH, s, 1));
    // issue #95: from after the first <paragraph> to the last </paragraph>, the first answer
    // segment ("5 6"), its support token and the second [Retrieval] <paragraph> are lost too
    int[] asWritten = {X, R, O, X, X, X, X, X, X, X, X, X, X, C, V, 8, S, E};
    assertArrayEquals(asWritten, labels(ParagraphMask.Mode.FIRST_TO_LAST, s, 1));
    TokenizedSample three = sample(1, 1, O, 3, C, 5, O, 6, C, 7, O, 8, C, 9, E);
    assertArrayEquals(
        new int[] {X, O, X, C, 5, O, X, C, 7, O, X, C, 9, E},
        labels(ParagraphMask.Mode.PER_PARAGRAPH, three, 1));
    assertArrayEquals(
        new int[] {X, O, X, X, X, X, X, X, X, X, X, C, 9, E},
        labels(ParagraphMask.Mode.FIRST_TO_LAST, three, 1));
  }

  @Test
  void passagesInThePromptAreNotSearched() {
    // a critic-style prompt that quotes a passage, trained on every token (loss = full)
    int[] ids = {1, O, 3, C, 4, R, O, 5, C, E};
    TokenizedSample full = new TokenizedSample(ids, ids.clone());
    assertArrayEquals(
        new int[] {1, O, 3, C, 4, R, O, X, C, E},
        labels(ParagraphMask.Mode.PER_PARAGRAPH, full, 5));
    assertArrayEquals(
        new int[] {1, O, 3, C, 4, R, O, X, C, E},
        labels(ParagraphMask.Mode.FIRST_TO_LAST, full, 5));
  }

  @Test
  void aPassageCutOffByTruncationIsMaskedToTheEnd() {
    TokenizedSample s = sample(1, 1, R, O, 3, 4, 5);
    assertArrayEquals(new int[] {X, R, O, X, X, X}, labels(ParagraphMask.Mode.PER_PARAGRAPH, s, 1));
    // as written, the end defaults to the last position, which stays trained
    assertArrayEquals(new int[] {X, R, O, X, X, 5}, labels(ParagraphMask.Mode.FIRST_TO_LAST, s, 1));
  }

  @Test
  void offOrMissingMarkupTokensChangeNothing() {
    TokenizedSample s = sample(1, 1, O, 3, C, E);
    assertSame(s, new ParagraphMask(ParagraphMask.Mode.OFF, O, C).apply(s, 1));
    ParagraphMask noTokens = new ParagraphMask(ParagraphMask.Mode.PER_PARAGRAPH, -1, -1);
    assertFalse(noTokens.active());
    assertSame(s, noTokens.apply(s, 1));
  }

  @Test
  void wireNamesParse() {
    assertEquals(ParagraphMask.Mode.FIRST_TO_LAST, ParagraphMask.Mode.parse("first-to-last"));
    assertEquals(ParagraphMask.Mode.PER_PARAGRAPH, ParagraphMask.Mode.parse("per-paragraph"));
  }
}
