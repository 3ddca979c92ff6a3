package dev.editforge.index;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

/** A small synthetic corpus with clustered vectors, for index and retrieval tests. */
public final class TestCorpus {
  public static final String[] TOPICS = {
    "volcano lava eruption magma", "violin orchestra symphony concerto",
        "glacier ice arctic melting",
    "bitcoin blockchain ledger mining", "tennis racket serve tournament", "bread yeast flour oven"
  };

  private TestCorpus() {}

  /**
   * {@code n} passages; passage i is about topic i % 6 and its vector sits near that topic's
   * centre.
   */
  public static List<IndexedPassage> passages(int n, int dim, boolean normalize, long seed) {
    Random rnd = new Random(seed);
    float[][] centres = new float[TOPICS.length][dim];
    for (float[] c : centres) {
      for (int d = 0; d < dim; d++) {
        c[d] = (float) rnd.nextGaussian();
      }
    }
    List<IndexedPassage> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      int t = i % TOPICS.length;
      float[] v = new float[dim];
      for (int d = 0; d < dim; d++) {
        v[d] = centres[t][d] + 0.3f * (float) rnd.nextGaussian();
      }
      if (normalize) {
        unit(v);
      }
      String word = TOPICS[t].split(" ")[i % 4];
      String text =
          "Passage "
              + i
              + " talks about "
              + TOPICS[t]
              + ", especially "
              + word
              + " number w"
              + i
              + ".";
      out.add(new IndexedPassage("pid-" + i, "src-" + i, "Title " + word, text, v));
    }
    return out;
  }

  public static float[] unit(float[] v) {
    double n = 0;
    for (float x : v) {
      n += x * x;
    }
    n = Math.sqrt(n);
    for (int d = 0; d < v.length; d++) {
      v[d] /= (float) n;
    }
    return v;
  }
}
