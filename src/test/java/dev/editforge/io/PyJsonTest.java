package dev.editforge.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;

import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PyJsonTest {
  @Test
  void formatsLikePythonJsonDumpsEnsureAsciiFalse() {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("a", "x\"y\\z\n\t\u0001\u007f é 詞 \u2028");
    m.put("b", Arrays.asList(1, true, null, 0.5, 1e-05, 2.0, 1e16, 0.0001));
    // Expected text is Python's own output for the same value.
    assertEquals(
        "{\"a\": \"x\\\"y\\\\z\\n\\t\\u0001\u007f é 詞 \u2028\", \"b\": [1, true, null, 0.5, 1e-05, 2.0, 1e+16, 0.0001]}",
        PyJson.dumps(m));
  }

  @Test
  void idsAreStableAndSeparated() {
    assertEquals(Ids.of("a", "b"), Ids.of("a", "b"));
    assertNotEquals(Ids.of("ab", "c"), Ids.of("a", "bc"));
    assertEquals(32, Ids.of("x").length());
  }
}
