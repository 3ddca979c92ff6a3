package dev.editforge.select;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.editforge.io.SftRow;
import dev.editforge.io.SftSource;
import org.junit.jupiter.api.Test;

class ReasoningRowsTest {
  static final ReasoningRows.Settings DEFAULT = new ReasoningRows.Settings(true, true, 0.0);

  @Test
  void keepsOnlyAgreeingTracesWithTextByDefault() {
    assertNull(ReasoningRows.drop(null, "Answer: A", true, 0.4, DEFAULT));
    assertEquals(
        ReasoningRows.Drop.NOT_AGREEING,
        ReasoningRows.drop(null, "Answer: B", false, 1.0, DEFAULT));
    assertEquals(
        ReasoningRows.Drop.NOT_AGREEING,
        ReasoningRows.drop(null, "no gold", null, 1.0, DEFAULT),
        "unknown agreement does not pass only-agreeing");
    assertEquals(
        ReasoningRows.Drop.FAILED, ReasoningRows.drop("timeout", "partial", true, 1.0, DEFAULT));
    assertEquals(ReasoningRows.Drop.FAILED, ReasoningRows.drop(null, " \n ", true, 1.0, DEFAULT));
  }

  @Test
  void voteShareFloorAndAgreementOff() {
    ReasoningRows.Settings s = new ReasoningRows.Settings(true, false, 0.6);
    assertNull(ReasoningRows.drop(null, "x", false, 0.6, s));
    assertEquals(ReasoningRows.Drop.BELOW_VOTE_SHARE, ReasoningRows.drop(null, "x", true, 0.59, s));
    assertEquals(ReasoningRows.Drop.BELOW_VOTE_SHARE, ReasoningRows.drop(null, "x", true, null, s));
  }

  @Test
  void rowIsTheStudentPromptAndTheStrippedTrace() {
    SftRow r = ReasoningRows.row("Solve: ...", "  step 1\nAnswer: A\n", "t1", 0.75);
    assertEquals("step 1\nAnswer: A", r.completion());
    assertEquals(SftSource.REASONING, r.source());
    assertEquals(0.75, r.score());
    assertEquals("Solve: ...", r.messages().get(0).content());
  }
}
