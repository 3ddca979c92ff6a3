package dev.editforge.select;

import dev.editforge.config.ConfigReader;
import dev.editforge.io.SftRow;
import dev.editforge.io.SftSource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.EnumMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;

/**
 * Combines the SFT sources into one dataset: self-edit rows, reasoning rows, identity rows, and
 * instruction rows at a configured share of the result.
 *
 * <p>{@code instructionRatio} r is the fraction of the final mix that is instruction data: with B
 * rows from the other sources, round(B·r/(1−r)) instruction rows are drawn (seeded, without
 * replacement, kept in input order), or all of them when fewer are available — {@link Mix#wanted}
 * tells the shortfall. r = 0 adds none. The result lists the sources in the order self_edit,
 * reasoning, self_cognition, instruction, or in one seeded shuffle when {@code shuffle} is set.
 */
public final class SftMixer {
  private SftMixer() {}

  /** {@code editforge.select.mix}. */
  public record Settings(double instructionRatio, boolean shuffle, long seed) {
    public Settings {
      if (!(instructionRatio >= 0 && instructionRatio < 1)) {
        throw new IllegalArgumentException(
            "instruction ratio must be in [0, 1), got " + instructionRatio);
      }
    }

    public static Settings from(ConfigReader r) {
      return new Settings(
          r.number("instruction-ratio", 0.0, 0.99),
          r.bool("shuffle"),
          r.longValue("seed", Long.MIN_VALUE, Long.MAX_VALUE));
    }
  }

  /**
   * The mixed rows, what each source offered, what was used, and how many instruction rows the
   * ratio asked for.
   */
  public record Mix(
      List<SftRow> rows,
      Map<SftSource, Integer> available,
      Map<SftSource, Integer> used,
      int wanted) {
    public Mix {
      rows = List.copyOf(rows);
      available = Collections.unmodifiableMap(new EnumMap<>(available));
      used = Collections.unmodifiableMap(new EnumMap<>(used));
    }

    /**
     * One line for logs and manifests, e.g. {@code mix rows=80 self_edit=50 ... instruction=20/300
     * (wanted 20)}.
     */
    public String summary() {
      StringBuilder sb = new StringBuilder("mix rows=" + rows.size());
      for (SftSource s : SftSource.values()) {
        if (s == SftSource.SELFRAG && used.get(s) == 0) {
          continue; // a run without Self-RAG data reads as it always has
        }
        sb.append(' ').append(s.wireName()).append('=').append(used.get(s));
        if (s == SftSource.INSTRUCTION) {
          sb.append('/')
              .append(available.get(s))
              .append(String.format(Locale.ROOT, " (wanted %d)", wanted));
        }
      }
      return sb.toString();
    }
  }

  public static Mix mix(
      List<SftRow> selfEdits,
      List<SftRow> reasoning,
      List<SftRow> identity,
      List<SftRow> instructions,
      Settings settings) {
    return mix(selfEdits, reasoning, identity, instructions, List.of(), settings);
  }

  /**
   * As above, with Self-RAG generator rows ({@code selfrag_sft}), which join whole like reasoning
   * traces and count towards the base the instruction ratio is taken of.
   */
  public static Mix mix(
      List<SftRow> selfEdits,
      List<SftRow> reasoning,
      List<SftRow> identity,
      List<SftRow> instructions,
      List<SftRow> selfRag,
      Settings settings) {
    check(selfRag, SftSource.SELFRAG);
    check(selfEdits, SftSource.SELF_EDIT);
    check(reasoning, SftSource.REASONING);
    check(identity, SftSource.SELF_COGNITION);
    check(instructions, SftSource.INSTRUCTION);
    int base = selfEdits.size() + reasoning.size() + identity.size() + selfRag.size();
    double r = settings.instructionRatio();
    int wanted = (int) Math.round(base * r / (1.0 - r));
    Random random = new Random(settings.seed());
    List<SftRow> chosen;
    if (wanted >= instructions.size()) {
      chosen = instructions;
    } else {
      List<Integer> idx = new ArrayList<>();
      for (int i = 0; i < instructions.size(); i++) {
        idx.add(i);
      }
      Collections.shuffle(idx, random);
      List<Integer> keep = new ArrayList<>(idx.subList(0, wanted));
      Collections.sort(keep);
      chosen = new ArrayList<>();
      for (int i : keep) {
        chosen.add(instructions.get(i));
      }
    }
    List<SftRow> rows = new ArrayList<>(base + chosen.size());
    rows.addAll(selfEdits);
    rows.addAll(reasoning);
    rows.addAll(identity);
    rows.addAll(selfRag);
    rows.addAll(chosen);
    if (settings.shuffle()) {
      Collections.shuffle(rows, random);
    }
    Map<SftSource, Integer> available = new EnumMap<>(SftSource.class);
    available.put(SftSource.SELF_EDIT, selfEdits.size());
    available.put(SftSource.REASONING, reasoning.size());
    available.put(SftSource.SELF_COGNITION, identity.size());
    available.put(SftSource.INSTRUCTION, instructions.size());
    available.put(SftSource.SELFRAG, selfRag.size());
    Map<SftSource, Integer> used = new EnumMap<>(available);
    used.put(SftSource.INSTRUCTION, chosen.size());
    return new Mix(rows, available, used, wanted);
  }

  private static void check(List<SftRow> rows, SftSource expected) {
    for (SftRow row : rows) {
      if (row.source() != expected) {
        throw new IllegalArgumentException(
            "a "
                + row.source().wireName()
                + " row was passed as "
                + expected.wireName()
                + " (origin "
                + row.originId()
                + ")");
      }
    }
  }
}
