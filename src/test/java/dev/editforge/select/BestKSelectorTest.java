package dev.editforge.select;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.typesafe.config.ConfigFactory;
import dev.editforge.config.ConfigReader;
import dev.editforge.config.SelectSettings;
import dev.editforge.io.SftRow;
import dev.editforge.io.SftSource;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class BestKSelectorTest {

  static EditScore edit(
      String article, int ordinal, String text, List<Double> adapter, List<Double> baseline) {
    return new EditScore(
        article, article + "-" + ordinal, ordinal, "P(" + article + ")", text, adapter, baseline);
  }

  static EditScore edit(String article, int ordinal, String text, double... adapter) {
    List<Double> a = new ArrayList<>();
    List<Double> b = new ArrayList<>();
    for (double v : adapter) {
      a.add(v);
      b.add(0.0);
    }
    return edit(article, ordinal, text, a, b);
  }

  static List<String> completions(BestKSelector.Selection s) {
    return s.rows().stream().map(SftRow::completion).toList();
  }

  @Test
  void picksHighestMeanAndKeepsEarlierEditOnTie() {
    List<EditScore> in =
        List.of(
            edit("a", 0, "a0", 0.2, 0.2, 0.2),
            edit("a", 1, "a1", 0.6, 0.0, 0.0),
            edit("a", 2, "a2", 0.0, 0.2, 0.4),
            edit("a", 3, "a3", 0.1, 0.1, 0.1));
    // a0 and a1 and a2 all average 0.2: the one generated first wins.
    BestKSelector.Selection s = new BestKSelector(SelectSettings.seal()).select(in);
    assertEquals(List.of("a0"), completions(s));
    assertEquals(0.2, s.rows().get(0).score(), 1e-15);
    assertEquals("a-0", s.rows().get(0).originId());
    assertEquals(SftSource.SELF_EDIT, s.rows().get(0).source());
  }

  @Test
  void tieIsDecidedByOrdinalNotByInputOrder() {
    List<EditScore> in =
        List.of(edit("a", 2, "late", 0.5), edit("a", 0, "early", 0.5), edit("a", 1, "worse", 0.4));
    var s = new BestKSelector(new SelectSettings(3, null, null, false)).select(in);
    assertEquals(List.of("early", "late", "worse"), completions(s));
  }

  @Test
  void exactMeanMakesPermutedRepeatsTie() {
    // Summed left to right in doubles, 0.2222, 0.4444, 0.7778 and 0.7778, 0.4444, 0.2222 give
    // means that differ in the last bit; SEAL (statistics.mean) sees a tie, so the earlier edit
    // must win whichever order the repeats are listed in.
    double naiveA = (0.2222 + 0.4444 + 0.7778) / 3;
    double naiveB = (0.7778 + 0.4444 + 0.2222) / 3;
    assertNotEquals(naiveA, naiveB);
    assertEquals(0.4814666666666667, EditScore.mean(List.of(0.2222, 0.4444, 0.7778)));
    assertEquals(
        EditScore.mean(List.of(0.2222, 0.4444, 0.7778)),
        EditScore.mean(List.of(0.7778, 0.4444, 0.2222)));
    for (boolean swap : new boolean[] {false, true}) {
      EditScore first =
          edit(
              "a",
              0,
              "first",
              swap ? new double[] {0.7778, 0.4444, 0.2222} : new double[] {0.2222, 0.4444, 0.7778});
      EditScore second =
          edit(
              "a",
              1,
              "second",
              swap ? new double[] {0.2222, 0.4444, 0.7778} : new double[] {0.7778, 0.4444, 0.2222});
      assertEquals(
          List.of("first"),
          completions(new BestKSelector(SelectSettings.seal()).select(List.of(first, second))));
    }
  }

  @Test
  void rowIsExactPromptAndStrippedCompletionPerArticleInInputOrder() {
    List<EditScore> in =
        List.of(
            edit("b", 0, "\n  b best \u00a0\n", 0.9),
            edit("a", 0, "a best", 0.3),
            edit("b", 1, "b other", 0.1));
    var s = new BestKSelector(SelectSettings.seal()).select(in);
    assertEquals(2, s.rows().size());
    assertEquals("P(b)", s.rows().get(0).prompt());
    assertEquals("b best", s.rows().get(0).completion());
    assertEquals("P(a)", s.rows().get(1).prompt());
    assertEquals("assistant", s.rows().get(0).messages().get(1).role());
    assertEquals("b best", s.rows().get(0).messages().get(1).content());
    assertEquals(new BestKSelector.Counts(2, 3, 2, 0, 0, 0, 0, 0, 1), s.counts());
  }

  @Test
  void blankAndUnscoredEditsNeverCompete() {
    List<EditScore> in =
        List.of(
            edit("a", 0, "   \n", 1.0),
            edit("a", 1, "unscored", List.of(), List.of()),
            edit("a", 2, "real", 0.2));
    var s = new BestKSelector(SelectSettings.seal()).select(in);
    assertEquals(List.of("real"), completions(s));
    assertEquals(new BestKSelector.Counts(1, 3, 1, 1, 1, 0, 0, 0, 0), s.counts());
  }

  @Test
  void optionalFiltersActBeforeTheTopKCut() {
    List<EditScore> in =
        List.of(
            edit("a", 0, "no gain", List.of(0.4), List.of(0.4)),
            edit("a", 1, "dup", List.of(0.6), List.of(0.2)),
            edit("a", 2, " dup ", List.of(0.6), List.of(0.2)),
            edit("a", 3, "small", List.of(0.3), List.of(0.0)),
            edit("a", 4, "ok", List.of(0.5), List.of(0.2)));
    var s = new BestKSelector(new SelectSettings(2, 0.0, 0.35, true)).select(in);
    assertEquals(List.of("dup", "ok"), completions(s));
    var c = s.counts();
    assertEquals(1, c.belowGain());
    assertEquals(1, c.belowAccuracy());
    assertEquals(1, c.duplicates());
    assertEquals(
        c.input(),
        c.selected()
            + c.unscored()
            + c.blank()
            + c.belowGain()
            + c.belowAccuracy()
            + c.duplicates()
            + c.beyondK());
    // Off by default: the zero-gain edit competes and the duplicate counts twice.
    assertEquals(
        List.of("dup", "dup", "ok", "no gain", "small"),
        completions(new BestKSelector(new SelectSettings(5, null, null, false)).select(in)));
  }

  @Test
  void settingsFromConfig() {
    String conf =
        "k = 2, drop-duplicates = true, require-gain-above = null, min-adapter-accuracy = 0.25";
    SelectSettings s =
        SelectSettings.from(new ConfigReader(ConfigFactory.parseString(conf), "editforge.select"));
    assertEquals(new SelectSettings(2, null, 0.25, true), s);
    assertThrows(
        RuntimeException.class,
        () ->
            SelectSettings.from(
                new ConfigReader(
                    ConfigFactory.parseString("k = 0, drop-duplicates = false"),
                    "editforge.select")));
  }
}
