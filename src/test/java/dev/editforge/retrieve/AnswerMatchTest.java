package dev.editforge.retrieve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class AnswerMatchTest {

  @Test
  void matchesWholeTokenRunsCaseInsensitively() {
    String text = "The Denver Broncos won Super Bowl 50 in 2016.";
    assertTrue(AnswerMatch.hasAnswer(List.of("denver broncos"), text));
    assertTrue(AnswerMatch.hasAnswer(List.of("Carolina", "Super Bowl 50"), text));
    assertFalse(AnswerMatch.hasAnswer(List.of("201"), text), "a token prefix is not a match");
    assertFalse(
        AnswerMatch.hasAnswer(List.of("Broncos won Bowl"), text), "tokens must be contiguous");
  }

  @Test
  void tokenizesLikeDprSimpleTokenizer() {
    assertEquals(
        List.of("u", ".", "s", ".", "army", "'", "s", "1st", "-", "rate"),
        AnswerMatch.tokens("U.S. Army's 1st-rate"));
    assertTrue(AnswerMatch.hasAnswer(List.of("U.S."), "the U.S. Navy"));
  }

  @Test
  void composedAndDecomposedAccentsMatchButAccentsAreNotStripped() {
    String composed = "Caf\u00e9 society";
    String decomposed = "Cafe\u0301";
    assertTrue(AnswerMatch.hasAnswer(List.of(decomposed), composed));
    assertFalse(AnswerMatch.hasAnswer(List.of("Cafe"), composed));
  }

  @Test
  void emptyAnswersMatchNothing() {
    assertFalse(AnswerMatch.hasAnswer(List.of("", "  "), "anything at all"));
    assertFalse(AnswerMatch.hasAnswer(List.of(), "anything"));
    assertFalse(AnswerMatch.hasAnswer(null, "anything"));
  }
}
