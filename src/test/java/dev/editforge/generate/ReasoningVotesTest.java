package dev.editforge.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class ReasoningVotesTest {
  @Test
  void goldDecidesAgreementAndEachTraceGetsItsAnswersShare() {
    ReasoningVotes.Decision d = ReasoningVotes.decide(Arrays.asList("B", "C", "B", null), "B");
    assertEquals(List.of(true, false, true, false), d.agrees());
    assertEquals(List.of(0.5, 0.25, 0.5, 0.0), d.voteShares());
    assertEquals("B", d.majority());
  }

  @Test
  void withoutGoldTheUniqueMajorityAgrees() {
    ReasoningVotes.Decision d = ReasoningVotes.decide(Arrays.asList("C", "A", "A"), null);
    assertEquals("A", d.majority());
    assertEquals(List.of(false, true, true), d.agrees());
    assertEquals(2.0 / 3, d.voteShares().get(1), 1e-12);
    assertFalse(d.tie());
  }

  @Test
  void aTieOrNoAnswerGivesNoMajorityAndNoAgreement() {
    ReasoningVotes.Decision tie = ReasoningVotes.decide(Arrays.asList("A", "B", null), null);
    assertTrue(tie.tie());
    assertNull(tie.majority());
    assertEquals(List.of(false, false, false), tie.agrees());
    assertEquals(List.of(1.0 / 3, 1.0 / 3, 0.0), tie.voteShares());
    ReasoningVotes.Decision none = ReasoningVotes.decide(Arrays.asList(null, null), null);
    assertTrue(none.noAnswer());
    assertEquals(List.of(false, false), none.agrees());
    assertEquals(List.of(0.0, 0.0), none.voteShares());
    // With gold, a tie does not matter: agreement is with the gold letter.
    assertEquals(
        List.of(true, false), ReasoningVotes.decide(Arrays.asList("A", "B"), "A").agrees());
  }
}
