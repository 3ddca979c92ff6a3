package dev.editforge.llm.remote;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.llm.net.Backoff;
import dev.editforge.llm.net.Secrets;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import org.junit.jupiter.api.Test;

class BackoffTest {
  final Backoff b = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(2));

  @Test
  void fullJitterSpansZeroToTheExponentialCeilingCappedAtMax() {
    assertEquals(Duration.ZERO, b.delay(3, Optional.empty(), () -> 0.0));
    assertEquals(Duration.ofMillis(50), b.delay(0, Optional.empty(), () -> 0.5));
    assertEquals(Duration.ofMillis(800), b.delay(3, Optional.empty(), () -> 1.0));
    assertEquals(Duration.ofSeconds(2), b.delay(10, Optional.empty(), () -> 1.0));
    assertEquals(
        Duration.ofSeconds(2),
        b.delay(500, Optional.empty(), () -> 1.0),
        "no overflow on long runs");
  }

  @Test
  void retryAfterWinsOverJitterButNotOverMax() {
    assertEquals(Duration.ofSeconds(1), b.delay(0, Optional.of(Duration.ofSeconds(1)), () -> 0.0));
    assertEquals(Duration.ofSeconds(2), b.delay(0, Optional.of(Duration.ofHours(1)), () -> 0.0));
  }

  @Test
  void retryAfterIsSecondsOrAnHttpDate() {
    Instant now = Instant.parse("2015-10-21T07:28:00Z");
    assertEquals(Optional.of(Duration.ofSeconds(120)), Backoff.parseRetryAfter("120", now));
    assertEquals(
        Optional.of(Duration.ofSeconds(30)),
        Backoff.parseRetryAfter("Wed, 21 Oct 2015 07:28:30 GMT", now));
    assertEquals(
        Optional.of(Duration.ZERO), Backoff.parseRetryAfter("Wed, 21 Oct 2015 07:27:00 GMT", now));
    assertTrue(Backoff.parseRetryAfter("soon", now).isEmpty());
    assertTrue(Backoff.parseRetryAfter("-5", now).isEmpty());
    assertTrue(Backoff.parseRetryAfter(null, now).isEmpty());
  }

  @Test
  void secretsAreMaskedInServerText() {
    assertEquals("token *** rejected", Secrets.redact("token sk-1 rejected", "sk-1", null, ""));
    assertEquals("a b...", Secrets.snippet("a\n  b c d", 3));
  }
}
