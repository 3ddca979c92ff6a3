package dev.editforge.continual;

import dev.editforge.lora.Seeds;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

/**
 * Which articles each sequence edits, in order: sequence {@code s} shuffles the article ids (sorted
 * first, so the sample does not depend on the table's row order) with a random stream seeded by
 * {@code (seed, s)} and takes the first {@code n}, as SEAL's {@code random.sample} draws {@code n}
 * distinct articles per sequence.
 */
final class ContinualSampling {
  private ContinualSampling() {}

  static List<List<String>> sample(List<String> articleIds, int sequences, int n, long seed) {
    if (n > articleIds.size()) {
      throw new IllegalArgumentException(
          n + " articles per sequence requested, but only " + articleIds.size() + " exist");
    }
    List<String> sorted = new ArrayList<>(articleIds);
    Collections.sort(sorted);
    List<List<String>> out = new ArrayList<>();
    for (int s = 0; s < sequences; s++) {
      List<String> copy = new ArrayList<>(sorted);
      Collections.shuffle(copy, new Random(Seeds.mix(seed, s)));
      out.add(List.copyOf(copy.subList(0, n)));
    }
    return out;
  }
}
