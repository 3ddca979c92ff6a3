package dev.editforge.retrieve;

import dev.editforge.config.ConfigReader;
import dev.editforge.config.SettingsException;
import dev.editforge.selfrag.CritiqueWeights;
import dev.editforge.selfrag.Quirk;
import dev.editforge.selfrag.RetrievalMode;
import dev.editforge.selfrag.SelfRagOptions;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * {@code editforge.selfrag}: how {@code selfrag-answer} and {@code evaluate --protocol selfrag}
 * answer (every key is documented in reference.conf), validated when the stage is planned.
 *
 * @param questions JSON/JSONL question file ({@code question}, {@code answers}), or "" (none)
 * @param maxQuestions the first N questions only; 0 = all
 * @param backend {@code local} (a DJL decoder in one Spark task) or {@code openai}
 *     (editforge.remote)
 * @param model local dir / hub id (local), served model name (openai; "" = remote.model)
 */
public record SelfRagSettings(
    String questions,
    int maxQuestions,
    RetrievalMode mode,
    List<RetrievalMode> evalModes,
    boolean longForm,
    int ndocs,
    double threshold,
    int maxNewTokens,
    int topLogprobs,
    double wRel,
    double wSup,
    double wUse,
    boolean useSeqScore,
    boolean useGroundness,
    boolean useUtility,
    int beamWidth,
    int maxDepth,
    int segmentTokens,
    List<String> asWritten,
    String backend,
    String model,
    int batchSize,
    int gpus,
    String dtype,
    int threads)
    implements Serializable {
  private static final long serialVersionUID = 1L;
  public static final List<String> BACKENDS = List.of("local", "openai");

  public static SelfRagSettings from(ConfigReader r) {
    List<RetrievalMode> evalModes = new ArrayList<>();
    for (String m : r.strings("eval-modes")) {
      evalModes.add(mode(r, "eval-modes", m));
    }
    if (evalModes.isEmpty()) {
      throw new SettingsException(
          r.full("eval-modes"), "[]", "at least one of adaptive, always, never");
    }
    List<String> quirks = r.strings("as-written");
    for (String q : quirks) {
      if (Quirk.ofKey(q) == null) {
        List<String> keys = new ArrayList<>();
        for (Quirk k : Quirk.values()) {
          keys.add(k.key());
        }
        throw new SettingsException(
            r.full("as-written"), q, "a list of " + String.join(", ", keys));
      }
    }
    return new SelfRagSettings(
        r.string("questions").strip(),
        r.integer("max-questions", 0, Integer.MAX_VALUE),
        mode(r, "mode", r.string("mode")),
        List.copyOf(evalModes),
        r.bool("long-form"),
        r.integer("ndocs", 1, 1000),
        r.number("threshold", 0.0, 1.0),
        r.integer("max-new-tokens", 1, 1 << 16),
        r.integer("top-logprobs", 0, 10000),
        r.number("w-rel", -1e6, 1e6),
        r.number("w-sup", -1e6, 1e6),
        r.number("w-use", -1e6, 1e6),
        r.bool("use-seqscore"),
        r.bool("use-groundness"),
        r.bool("use-utility"),
        r.integer("beam-width", 1, 100),
        r.integer("max-depth", 1, 100),
        r.integer("segment-tokens", 1, 1 << 16),
        List.copyOf(quirks),
        r.oneOf("backend", BACKENDS),
        r.string("model").strip(),
        r.integer("batch-size", 1, 4096),
        r.integer("gpus", 0, 64),
        r.string("dtype"),
        r.integer("threads", 0, 1024));
  }

  private static RetrievalMode mode(ConfigReader r, String key, String value) {
    RetrievalMode m = RetrievalMode.ofKey(value.strip());
    if (m == null) {
      throw new SettingsException(r.full(key), value, "adaptive, always or never");
    }
    return m;
  }

  public boolean local() {
    return backend.equals("local");
  }

  /** The runtime options of the answerer and the beam search. */
  public SelfRagOptions options() {
    Set<Quirk> quirks = EnumSet.noneOf(Quirk.class);
    asWritten.forEach(q -> quirks.add(Quirk.ofKey(q)));
    return new SelfRagOptions(
        ndocs,
        threshold,
        maxNewTokens,
        topLogprobs,
        new CritiqueWeights(wRel, wSup, wUse, useSeqScore, useGroundness, useUtility),
        quirks,
        beamWidth,
        maxDepth,
        segmentTokens);
  }
}
