package dev.editforge.llm;

import java.util.Arrays;
import java.util.SplittableRandom;

/**
 * Picks the next token from one row of logits on the host: greedy (first maximum), or temperature /
 * top-k / top-p sampling driven by the row's own random stream. Every sampled step draws exactly
 * one number from that stream, so a row's tokens depend only on its logits, its seed and its sample
 * index, never on what else shares the batch. Stateless; thread-safe.
 */
public final class Sampler {
  private Sampler() {}

  /** The random stream of sample {@code index} of a request seeded with {@code seed}. */
  public static SplittableRandom stream(long seed, int index) {
    long mixed = seed * 0x9E3779B97F4A7C15L + (index + 1L) * 0xC2B2AE3D27D4EB4FL;
    return new SplittableRandom(mixed ^ (mixed >>> 29));
  }

  /** The id chosen from {@code logits[offset, offset + vocab)}. */
  public static int next(
      float[] logits, int offset, int vocab, SamplingParams p, SplittableRandom rng) {
    if (p.isGreedy()) {
      return argMax(logits, offset, vocab);
    }
    double u = rng.nextDouble();
    int[] order = candidates(logits, offset, vocab, p.topK());
    int n = order.length;
    double[] probs = new double[n];
    double max = Double.NEGATIVE_INFINITY;
    for (int i = 0; i < n; i++) {
      max = Math.max(max, logits[offset + order[i]] / p.temperature());
    }
    double sum = 0;
    for (int i = 0; i < n; i++) {
      probs[i] = Math.exp(logits[offset + order[i]] / p.temperature() - max);
      sum += probs[i];
    }
    if (p.topP() < 1.0) {
      // Keep the smallest prefix of the descending order whose mass reaches top_p (at least one).
      double cum = 0;
      int keep = 0;
      while (keep < n) {
        cum += probs[keep] / sum;
        keep++;
        if (cum >= p.topP()) {
          break;
        }
      }
      n = keep;
      sum = 0;
      for (int i = 0; i < n; i++) {
        sum += probs[i];
      }
    }
    double target = u * sum;
    double acc = 0;
    for (int i = 0; i < n; i++) {
      acc += probs[i];
      if (target < acc) {
        return order[i];
      }
    }
    return order[n - 1];
  }

  static int argMax(float[] logits, int offset, int vocab) {
    int best = 0;
    float bestValue = Float.NEGATIVE_INFINITY;
    for (int i = 0; i < vocab; i++) {
      float v = logits[offset + i];
      if (v > bestValue) {
        bestValue = v;
        best = i;
      }
    }
    return best;
  }

  /**
   * Token ids in descending logit order (ties by id), limited to the top {@code k} when {@code k >
   * 0}. Top-p needs the order anyway; sorting a vocabulary of 150k costs about a millisecond, small
   * next to a decode step.
   */
  private static int[] candidates(float[] logits, int offset, int vocab, int k) {
    long[] keyed = new long[vocab];
    for (int i = 0; i < vocab; i++) {
      // Sortable bits of -logit in the high word, id in the low word: one primitive sort, stable by
      // id.
      int bits = Float.floatToIntBits(-logits[offset + i]);
      int sortable = bits ^ ((bits >> 31) & 0x7FFFFFFF);
      keyed[i] = ((long) sortable << 32) | i;
    }
    Arrays.sort(keyed);
    int n = k > 0 ? Math.min(k, vocab) : vocab;
    int[] out = new int[n];
    for (int i = 0; i < n; i++) {
      out[i] = (int) keyed[i];
    }
    return out;
  }
}
