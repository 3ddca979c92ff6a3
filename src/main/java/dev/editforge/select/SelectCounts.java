package dev.editforge.select;

import dev.editforge.io.Manifest;
import dev.editforge.io.SftSource;
import java.util.Map;

/**
 * The {@code sft} manifest's counts, every offered row counted once ({@code input = accepted +
 * rejected + duplicates}): {@code input} = self-edits considered + reasoning traces read + identity
 * rows drawn + instruction rows available (only read when the instruction ratio is above 0); {@code
 * accepted} = rows in the table (= {@code output}); {@code duplicates} = edits dropped by {@code
 * drop-duplicates}; {@code rejected} = everything else left out: unscored, blank, below the gain or
 * accuracy floor, beyond k, failed/non-agreeing/low-share traces, malformed instruction records,
 * and instruction rows not drawn at the ratio. The final mix by source comes next, then the
 * per-reason counts the {@link SelectSources} readers put in {@code detail}.
 */
final class SelectCounts {
  private SelectCounts() {}

  /**
   * Fills {@code m}'s counts from what the readers saw ({@code detail}: the self-edit counts, and
   * the reasoning ones when traces were read) and what the mix used; adds the identity and
   * instruction counts to {@code detail}.
   */
  static void fill(
      Manifest m,
      Map<String, Long> detail,
      int identity,
      SelectSources.Instructions instructions,
      SftMixer.Mix mix) {
    detail.put("identity_drawn", (long) identity);
    long notDrawn = instructions.rows().size() - mix.used().get(SftSource.INSTRUCTION);
    detail.put("instructions_available", instructions.offered());
    detail.put("instructions_invalid", instructions.invalid());
    detail.put("instructions_wanted", (long) mix.wanted());
    detail.put("instructions_not_drawn", notDrawn);

    long input =
        detail.get("self_edits")
            + detail.getOrDefault("reasoning_traces", 0L)
            + identity
            + instructions.offered()
            + detail.getOrDefault("selfrag_rows", 0L);
    long accepted = mix.rows().size();
    long duplicates = detail.get("duplicates");
    long rejected =
        detail.get("unscored")
            + detail.get("blank")
            + detail.get("below_gain")
            + detail.get("below_accuracy")
            + detail.get("beyond_k")
            + detail.getOrDefault("reasoning_dropped", 0L)
            + instructions.invalid()
            + notDrawn;
    m.count("input", input)
        .count("accepted", accepted)
        .count("rejected", rejected)
        .count("duplicates", duplicates)
        .count("output", accepted);
    for (SftSource s : SftSource.values()) {
      if (s == SftSource.SELFRAG && mix.used().get(s) == 0) {
        continue; // a run without Self-RAG data keeps its manifest as it was
      }
      m.count(s.wireName(), mix.used().get(s));
    }
    detail.forEach(m::count);
  }
}
