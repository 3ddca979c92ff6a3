package dev.editforge.judge;

import dev.editforge.text.PyText;
import java.util.List;
import java.util.function.BiPredicate;

/**
 * Judges that need no model. Each is correct when any non-blank gold satisfies its rule against a
 * non-blank prediction (a blank gold is a data error and matches nothing — in Self-RAG's {@code gt
 * in prediction} it would match everything).
 *
 * <ul>
 *   <li>{@code contains}: Self-RAG's {@code match} — a gold is a substring of the prediction,
 *       case-sensitive, raw text.
 *   <li>{@code normalized-contains}: the SQuAD-normalized gold is a substring of the
 *       SQuAD-normalized prediction.
 *   <li>{@code exact}: SQuAD exact match of the normalized strings.
 *   <li>{@code f1}: SQuAD token F1 at or above a threshold.
 *   <li>{@code token-recall}: the share of the gold's normalized tokens present in the prediction
 *       at or above a threshold — SEAL's grading rule ("must fully convey the gold answer", extra
 *       information allowed) as token overlap.
 * </ul>
 */
public final class LocalJudges {
  public static final List<String> NAMES =
      List.of("contains", "normalized-contains", "exact", "f1", "token-recall");

  private LocalJudges() {}

  public static Judge contains() {
    return new RuleJudge("contains", (pred, gold) -> pred.contains(gold));
  }

  public static Judge normalizedContains() {
    return new RuleJudge(
        "normalized-contains",
        (pred, gold) -> {
          String g = SquadText.normalize(gold);
          return !g.isEmpty() && SquadText.normalize(pred).contains(g);
        });
  }

  public static Judge exact() {
    return new RuleJudge(
        "exact", (pred, gold) -> SquadText.normalize(pred).equals(SquadText.normalize(gold)));
  }

  public static Judge f1(double threshold) {
    return new RuleJudge("f1", (pred, gold) -> SquadText.f1(pred, gold) >= threshold);
  }

  public static Judge tokenRecall(double threshold) {
    return new RuleJudge(
        "token-recall", (pred, gold) -> SquadText.goldRecall(pred, gold) >= threshold);
  }

  /** The local judge called {@code name}, with the thresholds of {@code settings}. */
  public static Judge byName(String name, JudgeSettings settings) {
    return switch (name) {
      case "contains" -> contains();
      case "normalized-contains" -> normalizedContains();
      case "exact" -> exact();
      case "f1" -> f1(settings.f1Threshold());
      case "token-recall" -> tokenRecall(settings.recallThreshold());
      default ->
          throw new IllegalArgumentException(
              "unknown local judge \"" + name + "\"; known: " + String.join(", ", NAMES));
    };
  }

  private record RuleJudge(String name, BiPredicate<String, String> rule) implements Judge {
    @Override
    public boolean correct(String question, List<String> golds, String prediction) {
      if (PyText.isBlank(prediction)) {
        return false;
      }
      for (String gold : golds) {
        if (!PyText.isBlank(gold) && rule.test(prediction, gold)) {
          return true;
        }
      }
      return false;
    }
  }
}
