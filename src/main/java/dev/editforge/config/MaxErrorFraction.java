package dev.editforge.config;

import java.io.Serializable;
import java.util.Locale;

/**
 * A model stage's quality threshold ({@code generate.max-error-fraction}, {@code
 * generate.reasoning.max-error-fraction}, {@code ttt.max-error-fraction}): the largest share of a
 * stage's rows that may carry an error before the stage fails with exit 3 instead of reporting
 * {@code completed}. Without one, a run whose every request failed (a wrong endpoint, a revoked
 * key, a template that cannot render) looked like a finished run and {@code run} went on with
 * nothing (issue 17).
 *
 * @param key the full config key, for the failure message
 * @param value the share in [0, 1]; 1 never fails, 0 fails on any error
 */
public record MaxErrorFraction(String key, double value) implements Serializable {
  /**
   * Half: a flaky endpoint or an occasional blank completion leaves a few percent of error rows,
   * which the next run retries; more than half means the backend, the model or the template is
   * broken, and what was written is mostly errors.
   */
  public static final double DEFAULT = 0.5;

  public MaxErrorFraction {
    if (!(value >= 0.0 && value <= 1.0)) {
      throw new SettingsException(key, value, "must be a fraction in [0, 1]");
    }
  }

  /** {@code key} of {@code r} (its full name in messages), {@link #DEFAULT} when it is absent. */
  public static MaxErrorFraction read(ConfigReader r, String key) {
    return new MaxErrorFraction(r.full(key), r.has(key) ? r.number(key, 0.0, 1.0) : DEFAULT);
  }

  /** The share of {@code rows} that {@code errors} is; 0 when there are no rows. */
  public static double fraction(long errors, long rows) {
    return rows <= 0 ? 0.0 : errors / (double) rows;
  }

  /** True when {@code errors} of {@code rows} is more than the threshold allows. */
  public boolean exceededBy(long errors, long rows) {
    return fraction(errors, rows) > value;
  }

  /**
   * The one-line failure for {@code errors} of {@code rows} ({@code what}: "rows have an error",
   * …), or null when within the threshold.
   */
  public String failure(String subject, long errors, long rows, String what) {
    if (!exceededBy(errors, rows)) {
      return null;
    }
    return String.format(
        Locale.ROOT,
        "%s: %,d of %,d %s (%.1f%% > %s = %.1f%%)",
        subject,
        errors,
        rows,
        what,
        100 * fraction(errors, rows),
        key,
        100 * value);
  }
}
