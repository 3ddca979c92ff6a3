package dev.editforge.llm.net;

import java.time.Duration;
import java.time.Instant;
import java.time.ZonedDateTime;
import java.time.format.DateTimeFormatter;
import java.time.format.DateTimeParseException;
import java.util.Optional;
import java.util.function.DoubleSupplier;

/**
 * Exponential backoff with full jitter (the delay before retry {@code r} is uniform in {@code [0,
 * min(max, initial * 2^r)]}), so that many executors hit by the same overload do not retry in
 * lock-step. A server's {@code Retry-After} wins over the jitter but is capped by {@code max}: a
 * batch job must not stall for an hour because a proxy asked it to. Immutable and thread-safe.
 */
public record Backoff(Duration initial, Duration max) {
  public Backoff {
    if (initial.isNegative() || max.isNegative()) {
      throw new IllegalArgumentException("backoff durations must be >= 0");
    }
  }

  /**
   * The wait before retry number {@code retry} (0 for the first retry).
   *
   * @param retryAfter what the server asked for, if anything
   * @param random a source of uniform numbers in [0, 1)
   */
  public Duration delay(int retry, Optional<Duration> retryAfter, DoubleSupplier random) {
    if (retryAfter.isPresent()) {
      Duration asked = retryAfter.get().isNegative() ? Duration.ZERO : retryAfter.get();
      return asked.compareTo(max) > 0 ? max : asked;
    }
    double ceiling =
        Math.min((double) max.toNanos(), initial.toNanos() * Math.pow(2, Math.min(retry, 62)));
    return Duration.ofNanos((long) (ceiling * random.getAsDouble()));
  }

  /**
   * Parses a {@code Retry-After} header: delta-seconds or an HTTP date (RFC 7231 section 7.1.3).
   * Empty when absent or unparseable, so a garbled header falls back to jitter.
   */
  public static Optional<Duration> parseRetryAfter(String header, Instant now) {
    if (header == null || header.isBlank()) {
      return Optional.empty();
    }
    String h = header.trim();
    try {
      long seconds = Long.parseLong(h);
      return seconds < 0 ? Optional.empty() : Optional.of(Duration.ofSeconds(seconds));
    } catch (NumberFormatException notSeconds) {
      try {
        Instant at = ZonedDateTime.parse(h, DateTimeFormatter.RFC_1123_DATE_TIME).toInstant();
        Duration d = Duration.between(now, at);
        return Optional.of(d.isNegative() ? Duration.ZERO : d);
      } catch (DateTimeParseException notDate) {
        return Optional.empty();
      }
    }
  }
}
