package dev.editforge.select;

import dev.editforge.config.ConfigReader;
import dev.editforge.config.EditforgeSettings;
import dev.editforge.config.SelectSettings;

/**
 * What {@code editforge select} builds besides best-k ({@link SelectSettings}): where scored edits
 * come from ({@code seal-run}: a SEAL ranking file instead of the run's {@code ttt_scores} and
 * {@code self_edits}; null = the run's tables), which reasoning traces join, the identity rows, the
 * mix with instruction data, and the export files. All from {@code editforge.select}.
 */
public record SftSettings(
    String sealRun,
    ReasoningRows.Settings reasoning,
    IdentityData.Settings identity,
    SftMixer.Settings mix,
    SftExport.Settings export) {

  /**
   * The {@code editforge.select} settings of {@code settings}. They are read here, not in config,
   * because they are made of select's own types; the CLI reads them once at start so a bad value
   * still exits 2 before any work.
   */
  public static SftSettings of(EditforgeSettings settings) {
    return from(
        new ConfigReader(settings.raw().getConfig("editforge"), "editforge").section("select"));
  }

  public static SftSettings from(ConfigReader select) {
    return new SftSettings(
        select.optionalString("seal-run"),
        ReasoningRows.Settings.from(select.section("reasoning")),
        IdentityData.Settings.from(select.section("identity")),
        SftMixer.Settings.from(select.section("mix")),
        SftExport.Settings.from(select.section("export")));
  }
}
