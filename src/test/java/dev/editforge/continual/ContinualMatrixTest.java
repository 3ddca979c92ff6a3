package dev.editforge.continual;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.editforge.SharedData;
import dev.editforge.text.Json;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Sampling, matrix assembly and SEAL's JSON shape, without Spark or models. */
class ContinualMatrixTest {
  static List<ContinualMatrix.Step> steps(double... flat) {
    // flat: row 0 (n values), then row i (i values)
    int n = 0;
    while ((n + n * (n + 1) / 2) < flat.length) {
      n++;
    }
    List<ContinualMatrix.Step> out = new ArrayList<>();
    int p = 0;
    for (int i = 0; i <= n; i++) {
      int k = ContinualMatrix.measuredColumns(i, n);
      double[] acc = new double[k];
      System.arraycopy(flat, p, acc, 0, k);
      p += k;
      out.add(new ContinualMatrix.Step(i, acc));
    }
    return out;
  }

  @Test
  void sampleIsSeededDistinctPerSequenceAndIndependentOfRowOrder() {
    List<String> ids = List.of("e", "a", "c", "b", "d", "f", "g");
    List<List<String>> s = ContinualSampling.sample(ids, 3, 4, 42);
    assertEquals(3, s.size());
    for (List<String> seq : s) {
      assertEquals(4, seq.size());
      assertEquals(4, new HashSet<>(seq).size(), "distinct articles in a sequence");
    }
    assertNotEquals(s.get(0), s.get(1), "sequences draw different samples");
    assertEquals(s, ContinualSampling.sample(List.of("g", "f", "e", "d", "c", "b", "a"), 3, 4, 42));
    assertNotEquals(s, ContinualSampling.sample(ids, 3, 4, 43));
    assertThrows(IllegalArgumentException.class, () -> ContinualSampling.sample(ids, 1, 8, 1));
  }

  @Test
  void matrixHasRowZeroFullAndZerosAboveTheMeasuredColumns() {
    // n = 3: row 0 = 3 values, then 1, 2, 3
    double[][] m = ContinualMatrix.of(3, steps(0.5, 0.25, 1.0, 0.75, 0.5, 0.5, 0.25, 0.5, 1.0));
    assertEquals(4, m.length);
    assertArrayEquals(new double[] {0.5, 0.25, 1.0}, m[0]);
    assertArrayEquals(new double[] {0.75, 0, 0}, m[1]);
    assertArrayEquals(new double[] {0.5, 0.5, 0}, m[2]);
    assertArrayEquals(new double[] {0.25, 0.5, 1.0}, m[3]);
    List<ContinualMatrix.Step> missing = steps(0.5, 0.25, 1.0, 0.75, 0.5, 0.5, 0.25, 0.5, 1.0);
    missing.remove(2);
    assertThrows(IllegalArgumentException.class, () -> ContinualMatrix.of(3, missing));
  }

  @Test
  void meanAndPopulationStdOverSequencesRoundedAsSealWritesThem() {
    double[][] a = ContinualMatrix.of(2, steps(0.0, 1.0, 0.5, 1.0, 0.0));
    double[][] b = ContinualMatrix.of(2, steps(1.0, 1.0, 1.0, 0.0, 1 / 3.0));
    Map<String, Object> j = ContinualMatrix.sealJson(List.of(a, b), "data/x.json", "m");
    assertEquals(
        List.of(
            "mean_over_sequences",
            "std_over_sequences",
            "n_sequences",
            "n_datapoints",
            "dataset",
            "base_model"),
        new ArrayList<>(j.keySet()));
    assertEquals(
        List.of(List.of(0.5, 1.0), List.of(0.75, 0.0), List.of(0.5, 0.1667)),
        j.get("mean_over_sequences"));
    // numpy std (ddof = 0): |a - b| / 2
    assertEquals(
        List.of(List.of(0.5, 0.0), List.of(0.25, 0.0), List.of(0.5, 0.1667)),
        j.get("std_over_sequences"));
    assertEquals(2, j.get("n_sequences"));
    assertEquals(2, j.get("n_datapoints"));
    assertEquals(0.1235, ContinualMatrix.round4(0.12345), "Python's round on the binary value");
    String printed = ContinualMatrix.render(ContinualMatrix.mean(List.of(a, b)), a);
    assertTrue(printed.lines().count() == 4 && printed.contains("edit 2"), printed);
  }

  /** Our JSON has SEAL's keys, value types and zero pattern (SEAL's file: 9 x 8). */
  @Test
  void sealsOwnFileHasTheShapeWeWrite() throws Exception {
    JsonNode seal = SharedData.json("data/seal/continual_overall_results.json");
    int n = seal.get("n_datapoints").asInt();
    List<double[][]> seqs = new ArrayList<>();
    for (int s = 0; s < 2; s++) {
      List<ContinualMatrix.Step> st = new ArrayList<>();
      for (int i = 0; i <= n; i++) {
        double[] acc = new double[ContinualMatrix.measuredColumns(i, n)];
        java.util.Arrays.fill(acc, 0.1 + 0.2 * s + 0.01 * i);
        st.add(new ContinualMatrix.Step(i, acc));
      }
      seqs.add(ContinualMatrix.of(n, st));
    }
    JsonNode ours = Json.MAPPER.readTree(Json.pretty(ContinualMatrix.sealJson(seqs, "d", "m")));
    ContinualJsonShape.assertSameShape(seal, ours);
  }
}
