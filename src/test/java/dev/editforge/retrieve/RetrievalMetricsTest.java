package dev.editforge.retrieve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class RetrievalMetricsTest {

  @Test
  void topKAccuracyCountsTheFirstAnswerBearingRank() {
    RetrievalMetrics m = new RetrievalMetrics(1, 2, 3);
    m.add(List.of("a", "b", "c"), List.of(true, false, false), null);
    m.add(List.of("a", "b", "c"), List.of(false, false, true), null);
    m.add(List.of("a", "b", "c"), List.of(false, false, false), null);
    m.add(List.of("a"), null, null); // no answers: not counted in accuracy
    RetrievalMetrics.Report r = m.report();
    assertEquals(4, r.queries());
    assertEquals(3, r.withAnswers());
    assertEquals(1.0 / 3, r.accuracy(1), 1e-12);
    assertEquals(1.0 / 3, r.accuracy(2), 1e-12);
    assertEquals(2.0 / 3, r.accuracy(3), 1e-12);
    assertTrue(Double.isNaN(r.recall(1)));
  }

  @Test
  void goldRecallIsTheFoundShareAveragedOverQueriesWithGold() {
    RetrievalMetrics m = new RetrievalMetrics(1, 5);
    m.add(List.of("x", "g1", "y", "g2"), null, Set.of("g1", "g2"));
    m.add(List.of("g3"), null, Set.of("g3"));
    RetrievalMetrics other = new RetrievalMetrics(1, 5);
    other.add(List.of("z"), null, Set.of("g4"));
    m.merge(other);
    RetrievalMetrics.Report r = m.report();
    assertEquals(3, r.withGold());
    assertEquals((0 + 1 + 0) / 3.0, r.recall(1), 1e-12);
    assertEquals((1 + 1 + 0) / 3.0, r.recall(5), 1e-12);
    assertEquals(List.of(1, 5), List.copyOf(r.goldRecall().keySet()));
  }
}
