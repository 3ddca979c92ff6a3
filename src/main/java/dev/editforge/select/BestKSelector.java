package dev.editforge.select;

import dev.editforge.config.SelectSettings;
import dev.editforge.io.SftRow;
import dev.editforge.io.SftSource;
import dev.editforge.text.PyText;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashSet;
import java.util.IdentityHashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Best-k self-edits per article, as SEAL's {@code build_SFT_dataset.py} picks them: an article's
 * edits sorted by mean adapter accuracy over the repeats, descending, with a stable sort (ties keep
 * the edit generated first — Python's {@code sorted(..., reverse=True)} is stable too), the first k
 * kept. Each kept edit becomes the row {prompt: the exact generation prompt, completion: the edit
 * stripped}.
 *
 * <p>Edits whose text is blank never compete: SEAL drops them before scoring ({@code
 * query_server.py}), so they never reach its ranking either. Unscored edits (no repeat finished)
 * are left out and counted. The optional filters — gain strictly above a floor, a minimum mean
 * adapter accuracy, duplicate (prompt, completion) pairs — are off by default (SEAL applies none)
 * and act before the top-k cut, so an article still yields k rows when k edits pass them.
 *
 * <p>Rows come out article by article in the order each article first appears in the input, best
 * edit first. Pure and stateless; thread-safe.
 */
public final class BestKSelector {
  private final SelectSettings settings;

  public BestKSelector(SelectSettings settings) {
    this.settings = settings;
  }

  /**
   * What one selection did with its input. Every input edit is counted exactly once: {@code input =
   * selected + unscored + blank + belowGain + belowAccuracy + duplicates + beyondK}.
   */
  public record Counts(
      int articles,
      int input,
      int selected,
      int unscored,
      int blank,
      int belowGain,
      int belowAccuracy,
      int duplicates,
      int beyondK) {
    /** The edit counts in the order select's manifest and its per-article aggregation use. */
    public long[] editCounts() {
      return new long[] {
        input, selected, unscored, blank, belowGain, belowAccuracy, duplicates, beyondK
      };
    }
  }

  /** The rows, the edits they came from (same order) and the counts. */
  public record Selection(List<SftRow> rows, List<EditScore> selected, Counts counts) {
    public Selection {
      rows = List.copyOf(rows);
      selected = List.copyOf(selected);
    }
  }

  public Selection select(List<EditScore> edits) {
    Map<String, List<EditScore>> byArticle = new LinkedHashMap<>();
    for (EditScore e : edits) {
      byArticle.computeIfAbsent(e.articleId(), k -> new ArrayList<>()).add(e);
    }
    int unscored = 0;
    int blank = 0;
    int belowGain = 0;
    int belowAccuracy = 0;
    int duplicates = 0;
    int beyondK = 0;
    Set<String> seen = new HashSet<>();
    List<SftRow> rows = new ArrayList<>();
    List<EditScore> picked = new ArrayList<>();
    for (List<EditScore> group : byArticle.values()) {
      // Generation order first (stable for equal ordinals), then a stable sort by the mean.
      List<EditScore> ranked = new ArrayList<>(group);
      ranked.sort(Comparator.comparingInt(EditScore::ordinal));
      List<EditScore> candidates = new ArrayList<>();
      for (EditScore e : ranked) {
        if (!e.scored()) {
          unscored++;
        } else if (PyText.isBlank(e.completion())) {
          blank++;
        } else {
          candidates.add(e);
        }
      }
      Map<EditScore, Double> mean = new IdentityHashMap<>();
      for (EditScore e : candidates) {
        mean.put(e, e.meanAdapter());
      }
      candidates.sort((a, b) -> Double.compare(mean.get(b), mean.get(a)));
      int kept = 0;
      for (EditScore e : candidates) {
        if (settings.requireGainAbove() != null && !(e.gain() > settings.requireGainAbove())) {
          belowGain++;
          continue;
        }
        if (settings.minAdapterAccuracy() != null
            && !(mean.get(e) >= settings.minAdapterAccuracy())) {
          belowAccuracy++;
          continue;
        }
        if (kept == settings.k()) {
          beyondK++;
          continue;
        }
        String completion = PyText.strip(e.completion());
        if (settings.dropDuplicates() && !seen.add(e.prompt() + '\u0000' + completion)) {
          duplicates++;
          continue;
        }
        kept++;
        rows.add(
            SftRow.exchange(e.prompt(), completion, SftSource.SELF_EDIT, e.editId(), mean.get(e)));
        picked.add(e);
      }
    }
    Counts counts =
        new Counts(
            byArticle.size(),
            edits.size(),
            rows.size(),
            unscored,
            blank,
            belowGain,
            belowAccuracy,
            duplicates,
            beyondK);
    return new Selection(rows, picked, counts);
  }
}
