package dev.editforge.config;

import java.time.Duration;

/**
 * {@code editforge.run}: how commands share a run directory.
 *
 * @param lockTimeout how old a table lock must be before {@code --break-lock} may remove it; longer
 *     than the longest stage, since a live writer does not refresh its lock
 */
public record RunSettings(Duration lockTimeout) {
  public static RunSettings of(EditforgeSettings settings) {
    return from(
        new ConfigReader(settings.raw().getConfig("editforge"), "editforge").section("run"));
  }

  public static RunSettings from(ConfigReader run) {
    Duration timeout = run.duration("lock-timeout");
    if (timeout.isNegative() || timeout.isZero()) {
      throw new SettingsException(
          run.full("lock-timeout"), timeout.toString(), "must be a positive duration such as 24h");
    }
    return new RunSettings(timeout);
  }
}
