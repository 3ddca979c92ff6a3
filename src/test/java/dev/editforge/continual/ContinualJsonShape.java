package dev.editforge.continual;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/** Structural comparison of continual JSON files: keys, types, matrix shapes, zero positions. */
final class ContinualJsonShape {
  private ContinualJsonShape() {}

  static List<String> keys(JsonNode n) {
    List<String> out = new ArrayList<>();
    n.fieldNames().forEachRemaining(out::add);
    return out;
  }

  /**
   * Asserts the shape SEAL's continual_self_edits.py writes: an (n + 1) x n mean and std matrix
   * where row i > 0 is zero from column i on.
   */
  static void assertSealShape(JsonNode j, int sequences, int n) {
    assertEquals(sequences, j.get("n_sequences").asInt());
    assertEquals(n, j.get("n_datapoints").asInt());
    for (String key : List.of("mean_over_sequences", "std_over_sequences")) {
      JsonNode m = j.get(key);
      assertEquals(n + 1, m.size(), key + " rows");
      for (int i = 0; i <= n; i++) {
        assertEquals(n, m.get(i).size(), key + " row " + i + " columns");
        for (int c = 0; c < n; c++) {
          double v = m.get(i).get(c).asDouble();
          assertTrue(v >= 0 && v <= 1, key + "[" + i + "][" + c + "] = " + v);
          if (i > 0 && c >= i) {
            assertEquals(0.0, v, key + "[" + i + "][" + c + "] is zero, as in SEAL's file");
          }
        }
      }
    }
  }

  /** Same keys in the same order, same value kinds, same zero pattern (per its own n). */
  static void assertSameShape(JsonNode seal, JsonNode ours) {
    assertEquals(keys(seal), keys(ours));
    for (String k : keys(seal)) {
      assertEquals(seal.get(k).getNodeType(), ours.get(k).getNodeType(), k);
    }
    int n = seal.get("n_datapoints").asInt();
    assertSealShape(seal, seal.get("n_sequences").asInt(), n);
    assertSealShape(ours, ours.get("n_sequences").asInt(), ours.get("n_datapoints").asInt());
  }
}
