package dev.editforge.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class PyTextTest {
  @Test
  void stripAndBlankFollowPythonNotJava() {
    // Java's String.strip() keeps U+00A0 and U+202F; Python strips them. \x1c is space to both.
    assertEquals("a b", PyText.strip("\u00a0\u202f a b\u3000\u001c\n"));
    assertEquals("\u00a0x".strip(), "\u00a0x"); // the difference this class exists for
    assertTrue(PyText.isBlank("\u2028\u00a0 "));
    assertEquals("x ", PyText.lstrip("\u0085x "));
    assertEquals(List.of("a", "b"), PyText.splitWhitespace("\u00a0a\u2003\u2003b "));
  }

  @Test
  void splitLinesLikePython() {
    // Python: 'a\r\nb\rc\x0bd\x1ce\u2028f\n'.splitlines() == ['a','b','c','d','e','f']
    assertEquals(
        List.of("a", "b", "c", "d", "e", "f"),
        PyText.splitLines("a\r\nb\rc\u000bd\u001ce\u2028f\n"));
    assertEquals(List.of("", "a", ""), PyText.splitLines("\na\n\n"));
    assertEquals(List.of(), PyText.splitLines(""));
  }

  @Test
  void formatIsSinglePassWithEscapedBraces() {
    assertEquals("{x} {title} 1", PyText.format("{{x}} {a} {b}", Map.of("a", "{title}", "b", "1")));
    assertThrows(IllegalArgumentException.class, () -> PyText.format("{c}", Map.of("a", "")));
    assertThrows(IllegalArgumentException.class, () -> PyText.format("{a", Map.of("a", "")));
    assertThrows(IllegalArgumentException.class, () -> PyText.format("{a:>3}", Map.of("a", "")));
  }
}
