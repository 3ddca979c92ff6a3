package dev.editforge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.config.SettingsException;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

class RoundsTest {
  static final List<String> IDS = IntStream.range(0, 10).mapToObj(i -> "a" + i).toList();

  @Test
  void drawsAreDisjointSeededAndStableWhenMoreRoundsAreAsked() {
    List<List<String>> two = Rounds.draw(IDS, 3, 2, 42);
    List<List<String>> three = Rounds.draw(IDS, 3, 3, 42);
    assertEquals(two, three.subList(0, 2), "a longer run keeps the first rounds' draws");
    Set<String> seen = new HashSet<>();
    three.forEach(b -> b.forEach(id -> assertTrue(seen.add(id), id + " drawn twice")));
    assertEquals(9, seen.size());
    assertEquals(two, Rounds.draw(reversed(), 3, 2, 42), "input order does not matter");
    assertTrue(!two.equals(Rounds.draw(IDS, 3, 2, 7)), "another seed, another draw");
  }

  static List<String> reversed() {
    List<String> r = new java.util.ArrayList<>(IDS);
    java.util.Collections.reverse(r);
    return r;
  }

  @Test
  void refusesTooManyArticlesZeroRoundsAndOverlap() {
    var e = assertThrows(SettingsException.class, () -> Rounds.draw(IDS, 4, 3, 1));
    assertTrue(e.getMessage().contains("12 training articles requested"), e.getMessage());
    assertThrows(SettingsException.class, () -> Rounds.draw(IDS, 1, 0, 1));
    var o =
        assertThrows(SettingsException.class, () -> Rounds.checkDisjoint(IDS, List.of("x", "a3")));
    assertTrue(o.getMessage().contains("a3"), o.getMessage());
    Rounds.checkDisjoint(IDS, List.of("x"));
  }

  @Test
  void rowMeansGainsAndPositiveShare() {
    Rounds.Row r =
        Rounds.row(
            1,
            "m",
            "fp",
            List.of(
                new Rounds.Score(0.5, 0.75, 0.25),
                new Rounds.Score(0.5, 0.25, -0.25),
                new Rounds.Score(0.0, 0.5, 0.5),
                new Rounds.Score(1.0, 1.0, 0.0)),
            7,
            0.4);
    assertEquals(0.5, r.meanBaselineAccuracy(), 1e-12);
    assertEquals(0.625, r.meanAdapterAccuracy(), 1e-12);
    assertEquals(0.125, r.meanGain(), 1e-12);
    assertEquals(0.5, r.positiveGainShare(), 1e-12);
    assertEquals(7, r.sftRows());
    assertTrue(Rounds.render(List.of(r)).contains("+0.1250"));
  }
}
