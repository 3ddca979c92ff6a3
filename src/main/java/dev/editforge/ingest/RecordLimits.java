package dev.editforge.ingest;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.StreamReadConstraints;
import dev.editforge.config.IngestSettings;
import java.io.Serializable;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * How large one input record may be ({@code editforge.ingest.max-record-bytes}, {@code max-depth},
 * {@code max-string-chars}) and how much of a rejected record's text is kept. A record over a limit
 * is rejected alone; nothing over a limit ever reaches Jackson's own constraints, whose exception
 * would otherwise abort a whole streamed document. Immutable and thread-safe.
 */
public record RecordLimits(long maxRecordBytes, int maxDepth, int maxStringChars, int sampleChars)
    implements Serializable {
  /** Jackson's defaults (2.15+), for callers that only set a size. */
  static final int DEFAULT_MAX_DEPTH = 1000;

  static final int DEFAULT_MAX_STRING_CHARS = 20_000_000;

  private static final Map<RecordLimits, JsonFactory> FACTORIES = new ConcurrentHashMap<>();

  public static RecordLimits of(IngestSettings s) {
    return new RecordLimits(
        s.maxRecordBytes(), s.maxDepth(), s.maxStringChars(), s.rejectSampleChars());
  }

  static RecordLimits of(long maxRecordBytes, int sampleChars) {
    return new RecordLimits(
        maxRecordBytes, DEFAULT_MAX_DEPTH, DEFAULT_MAX_STRING_CHARS, sampleChars);
  }

  /**
   * A JSON factory whose constraints are these limits: a backstop behind {@link JsonShape}, which
   * rejects over-limit records before they are parsed. One per distinct limits, shared (Jackson's
   * factories are thread-safe once configured).
   */
  JsonFactory jsonFactory() {
    return FACTORIES.computeIfAbsent(
        this,
        l ->
            JsonFactory.builder()
                .streamReadConstraints(
                    StreamReadConstraints.builder()
                        .maxNestingDepth(l.maxDepth)
                        .maxStringLength(l.maxStringChars)
                        .build())
                .build());
  }

  /** The kept start of a rejected record's text. */
  String sample(String text) {
    return text.length() <= sampleChars ? text : text.substring(0, sampleChars) + "...";
  }
}
