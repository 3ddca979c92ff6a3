package dev.editforge.ttt;

import static org.junit.jupiter.api.Assertions.assertDoesNotThrow;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import org.junit.jupiter.api.Test;

/**
 * A scorer that returns too few, repeated or foreign results fails the article instead of writing
 * them.
 */
class ScoreTaskTest {
  static final ArticleWork WORK =
      new ArticleWork(
          "A1",
          "T",
          "C",
          List.of(new ArticleWork.Question("q", List.of("a"))),
          List.of(new ArticleWork.Edit("e1", "x"), new ArticleWork.Edit("e2", "y")));

  static TttResult r(String edit, String article, int repeat) {
    return new TttResult(edit, article, repeat, 0, 1, 1, List.of(1), List.of(), 2, 10, 0.1);
  }

  @Test
  void everyEditExactlyEvalTimesAndNothingElse() {
    assertDoesNotThrow(
        () ->
            ScoreTask.check(
                WORK,
                List.of(r("e1", "A1", 0), r("e1", "A1", 1), r("e2", "A1", 0), r("e2", "A1", 1)),
                2));
    IllegalStateException missing =
        assertThrows(
            IllegalStateException.class,
            () ->
                ScoreTask.check(
                    WORK, List.of(r("e1", "A1", 0), r("e1", "A1", 1), r("e2", "A1", 0)), 2));
    assertTrue(missing.getMessage().contains("1 repeats of edit e2"), missing.getMessage());
    assertThrows(
        IllegalStateException.class,
        () ->
            ScoreTask.check(
                WORK,
                List.of(r("e1", "A1", 0), r("e1", "A1", 0), r("e2", "A1", 0), r("e2", "A1", 1)),
                2));
    assertThrows(
        IllegalStateException.class,
        () ->
            ScoreTask.check(
                WORK, List.of(r("e1", "A1", 0), r("e2", "A1", 0), r("e3", "A1", 0)), 1));
    assertThrows(
        IllegalStateException.class,
        () -> ScoreTask.check(WORK, List.of(r("e1", "A1", 0), r("e2", "A2", 0)), 1));
  }
}
