package dev.editforge.encoders;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.HashSet;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class TokenPackingTest {

  @Test
  void truncationKeepsLeadingAndTrailingSpecialTokens() {
    long[] ids = {101, 7, 8, 9, 10, 11, 102};
    long[] special = {1, 0, 0, 0, 0, 0, 1};
    assertArrayEquals(new long[] {101, 7, 8, 102}, TokenPacking.truncate(ids, special, 4));
  }

  @Test
  void shortSequencesAreReturnedUntouched() {
    long[] ids = {101, 7, 102};
    assertSame(ids, TokenPacking.truncate(ids, new long[] {1, 0, 1}, 3));
  }

  @Test
  void maxLengthTooSmallForSpecialTokensIsAnError() {
    assertThrows(
        IllegalArgumentException.class,
        () -> TokenPacking.truncate(new long[] {101, 7, 8, 102}, new long[] {1, 0, 0, 1}, 2));
  }

  @Test
  void groupsAreSortedLongestFirstAndRespectBothCaps() {
    int[] lengths = {5, 0, 40, 7, 40, 3, 12};
    List<TokenPacking.Group> groups = TokenPacking.group(lengths, 3, 90);
    // 40-token texts: at most 90/40 = 2 per group.
    assertArrayEquals(new int[] {2, 4}, groups.get(0).members());
    assertEquals(40, groups.get(0).paddedLength());
    assertArrayEquals(new int[] {6, 3, 0}, groups.get(1).members());
    assertEquals(12, groups.get(1).paddedLength());
    assertArrayEquals(new int[] {5}, groups.get(2).members());
    Set<Integer> seen = new HashSet<>();
    for (TokenPacking.Group g : groups) {
      for (int m : g.members()) {
        assertTrue(seen.add(m), "text " + m + " in two groups");
        assertTrue(lengths[m] <= g.paddedLength());
      }
    }
    assertEquals(6, seen.size(), "the rejected (length 0) text must not be grouped");
  }

  @Test
  void aTextLongerThanTheTokenBudgetStillGetsItsOwnGroup() {
    List<TokenPacking.Group> groups = TokenPacking.group(new int[] {500, 500}, 8, 100);
    assertEquals(2, groups.size());
    assertEquals(500, groups.get(0).paddedLength());
  }
}
