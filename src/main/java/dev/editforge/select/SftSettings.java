package dev.editforge.select;

import dev.editforge.config.ConfigReader;

/**
 * What {@code editforge select} builds besides best-k ({@link SelectSettings}): where scored
 * edits come from ({@code seal-run}: a SEAL ranking file instead of the run's {@code ttt_scores}
 * and {@code self_edits}; null = the run's tables), which reasoning traces join, the identity rows,
 * the mix with instruction data, and the export files. All from {@code editforge.select}.
 */
public record SftSettings(
    String sealRun,
    ReasoningRows.Settings reasoning,
    IdentityData.Settings identity,
    SftMixer.Settings mix,
    SftExport.Settings export) {

  public static SftSettings from(ConfigReader select) {
    return new SftSettings(
        select.optionalString("seal-run"),
        ReasoningRows.Settings.from(select.section("reasoning")),
        IdentityData.Settings.from(select.section("identity")),
        SftMixer.Settings.from(select.section("mix")),
        SftExport.Settings.from(select.section("export")));
  }
}
