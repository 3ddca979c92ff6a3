package dev.editforge.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class SafeTextTest {
  @Test
  void terminalControlSequencesBecomeVisibleEscapes() {
    String hostile = "a\u001b]0;pwned\u0007b\u001b[2Jc\r\n\td\u007f\u009b31m";
    assertEquals(
        "a\\u001b]0;pwned\\u0007b\\u001b[2Jc\\r\\n\\td\\u007f\\u009b31m", SafeText.escape(hostile));
    assertFalse(SafeText.isSafe(hostile));
  }

  @Test
  void bidiOverridesAndUnpairedSurrogatesAreEscapedButTextIsKept() {
    assertEquals("x\\u202eevil", SafeText.escape("x\u202eevil"));
    assertEquals("\\ud83d!", SafeText.escape("\ud83d!"));
    String readable = "Ünïcödé 東京 \uD83D\uDE00 C:\\path \"q\"";
    assertEquals(readable, SafeText.escape(readable), "letters, emoji and backslashes stay");
    assertTrue(SafeText.isSafe(readable));
  }

  @Test
  void quotesAreCutToABoundSayingHowMuchWasLeftOut() {
    assertEquals("abc... (7 more chars)", SafeText.quote("abcdefghij", 3));
    assertEquals("abcdefghij", SafeText.quote("abcdefghij", 10));
    assertEquals("a... (2 more chars)", SafeText.quote("a\uD83D\uDE00", 2), "no half emoji");
    assertEquals(
        SafeText.DEFAULT_MAX_CHARS + "... (1 more chars)".length(),
        SafeText.quote("x".repeat(SafeText.DEFAULT_MAX_CHARS + 1)).length());
    assertEquals("null", SafeText.quote(null));
  }
}
