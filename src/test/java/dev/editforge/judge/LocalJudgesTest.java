package dev.editforge.judge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

class LocalJudgesTest {

  static boolean judge(Judge j, String pred, String... golds) {
    return j.correct("Topic: T\nQ?", List.of(golds), pred);
  }

  @Test
  void squadNormalization() {
    assertEquals("cats hat", SquadText.normalize("The  Cat's hat!"));
    assertEquals("apple", SquadText.normalize("An apple."));
    assertEquals("theatre", SquadText.normalize("the theatre")); // "the" inside a word stays
    assertEquals(
        "1750–1840", SquadText.normalize("(1750–1840)")); // non-ASCII dash is not punctuation
    assertEquals("", SquadText.normalize(" a an THE "));
  }

  @Test
  void squadF1AndRecall() {
    // pred tokens: mongols seized town of otrar (5); gold: otrar (1) -> P=1/5, R=1 -> F1=1/3
    assertEquals(1.0 / 3, SquadText.f1("The Mongols seized the town of Otrar.", "Otrar"), 1e-12);
    assertEquals(1.0, SquadText.goldRecall("The Mongols seized the town of Otrar.", "Otrar"));
    assertEquals(0.0, SquadText.f1("nothing shared", "Otrar"));
    // Multiplicity counts: gold "new new york" against "new york" shares 2 of 3.
    assertEquals(2.0 / 3, SquadText.goldRecall("New York", "new new york"), 1e-12);
    assertEquals(0.8, SquadText.f1("New York", "new new york"), 1e-12);
  }

  @Test
  void containsIsSelfRagsCaseSensitiveSubstring() {
    Judge j = LocalJudges.contains();
    assertTrue(judge(j, "He fled the battle.", "fled"));
    assertFalse(judge(j, "He Fled.", "fled"));
    assertTrue(judge(j, "Subutai", "Jebe", "Subutai"));
    assertFalse(judge(j, "anything", "")); // a blank gold matches nothing
    assertFalse(judge(j, "  \n", " ")); // blank prediction is never correct
  }

  @Test
  void normalizedContainsAndExact() {
    Judge nc = LocalJudges.normalizedContains();
    assertTrue(judge(nc, "They were the DANES, and Germans.", "Danes and Germans"));
    assertFalse(judge(nc, "Danes or Germans", "Danes and Germans"));
    assertFalse(judge(nc, "the answer", "The")); // gold normalizes to nothing
    Judge ex = LocalJudges.exact();
    assertTrue(judge(ex, " the Otrar. ", "Otrar"));
    assertFalse(judge(ex, "Otrar town", "Otrar"));
  }

  @Test
  void thresholdJudges() {
    Judge f1 = LocalJudges.f1(0.5);
    assertFalse(judge(f1, "The Mongols seized the town of Otrar.", "Otrar")); // F1 1/3
    assertTrue(judge(LocalJudges.f1(1.0 / 3), "The Mongols seized the town of Otrar.", "Otrar"));
    Judge rec = LocalJudges.tokenRecall(0.75);
    assertTrue(judge(rec, "Jebe and Subutai were sent", "Subutai and Jebe"));
    assertFalse(judge(rec, "Subutai, Jebe", "Subutai and Jebe")); // 2 of 3 < 0.75
    assertTrue(judge(LocalJudges.tokenRecall(0.6), "Subutai, Jebe", "Subutai and Jebe"));
  }

  @Test
  void byNameKnowsEveryJudgeAndListsThemOnError() {
    JudgeSettings s = JudgeSettings.defaults();
    for (String name : LocalJudges.NAMES) {
      assertEquals(name, LocalJudges.byName(name, s).name());
    }
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> LocalJudges.byName("bleu", s));
    assertTrue(e.getMessage().contains("normalized-contains"), e.getMessage());
  }
}
