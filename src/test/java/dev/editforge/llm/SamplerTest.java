package dev.editforge.llm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.List;
import java.util.SplittableRandom;
import org.junit.jupiter.api.Test;

class SamplerTest {
  /** Probabilities 1/6, 2/6, 3/6 at temperature 1. */
  private static final float[] LOGITS = {0f, (float) Math.log(2), (float) Math.log(3)};

  private static SamplingParams params(double temperature, double topP, int topK) {
    return new SamplingParams(1, temperature, topP, topK, 1, List.of(), List.of(), 0);
  }

  private static double[] frequencies(SamplingParams p, int draws) {
    SplittableRandom rng = Sampler.stream(7, 0);
    double[] counts = new double[LOGITS.length];
    for (int i = 0; i < draws; i++) {
      counts[Sampler.next(LOGITS, 0, LOGITS.length, p, rng)]++;
    }
    for (int i = 0; i < counts.length; i++) {
      counts[i] /= draws;
    }
    return counts;
  }

  private static void assertFrequencies(double[] expected, double[] actual) {
    for (int i = 0; i < expected.length; i++) {
      assertEquals(expected[i], actual[i], 0.01, "token " + i);
    }
  }

  @Test
  void greedyTakesTheFirstMaximum() {
    float[] logits = {1f, 5f, 2f, 5f};
    assertEquals(1, Sampler.next(logits, 0, 4, SamplingParams.greedy(1), Sampler.stream(0, 0)));
    float[] twoRows = {9f, 0f, 0f, 0f, 0f, 3f};
    assertEquals(
        2,
        Sampler.next(twoRows, 3, 3, SamplingParams.greedy(1), Sampler.stream(0, 0)),
        "reads its own row");
  }

  @Test
  void temperatureOneSamplesTheSoftmax() {
    assertFrequencies(
        new double[] {1 / 6.0, 2 / 6.0, 3 / 6.0}, frequencies(params(1, 1, 0), 60000));
  }

  @Test
  void lowerTemperatureSharpens() {
    // T = 0.5 squares the probabilities: 1, 4, 9 over 14.
    assertFrequencies(
        new double[] {1 / 14.0, 4 / 14.0, 9 / 14.0}, frequencies(params(0.5, 1, 0), 60000));
  }

  @Test
  void topKKeepsTheKMostLikely() {
    assertFrequencies(new double[] {0, 2 / 5.0, 3 / 5.0}, frequencies(params(1, 1, 2), 60000));
    assertFrequencies(new double[] {0, 0, 1}, frequencies(params(1, 1, 1), 1000));
  }

  @Test
  void topPKeepsTheSmallestSetReachingP() {
    // Sorted: 0.5, 0.333, 0.167. 0.5 < 0.6, so the second joins; renormalised 0.6 / 0.4.
    assertFrequencies(new double[] {0, 0.4, 0.6}, frequencies(params(1, 0.6, 0), 60000));
    assertFrequencies(new double[] {0, 0, 1}, frequencies(params(1, 0.01, 0), 1000));
  }

  @Test
  void streamsDependOnlyOnSeedAndSampleIndex() {
    assertEquals(Sampler.stream(5, 2).nextLong(), Sampler.stream(5, 2).nextLong());
    assertNotEquals(Sampler.stream(5, 2).nextLong(), Sampler.stream(5, 3).nextLong());
    assertNotEquals(Sampler.stream(5, 0).nextLong(), Sampler.stream(6, 0).nextLong());
  }
}
