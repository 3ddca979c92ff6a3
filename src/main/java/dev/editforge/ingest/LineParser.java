package dev.editforge.ingest;

import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.editforge.text.Json;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.StandardCharsets;

/**
 * Parses one line of a line-based input into a {@link Parsed} record. Blank lines are not records
 * (null). The size limit and strict UTF-8 check happen here for every kind, so each kind only says
 * how a decoded line becomes a row. Implementations are stateless and thread-safe.
 */
public abstract class LineParser implements Serializable {
  private static final long serialVersionUID = 1L;
  private static final ObjectMapper MAPPER = Json.COMPACT;

  protected final String table;
  private final RecordLimits limits;
  private final long maxRecordBytes;
  private final int sampleChars;

  protected LineParser(String table, RecordLimits limits) {
    this.table = table;
    this.limits = limits;
    this.maxRecordBytes = limits.maxRecordBytes();
    this.sampleChars = limits.sampleChars();
  }

  public static LineParser of(InputKind kind, RecordLimits limits) {
    return switch (kind) {
      case DPR -> new DprLineParser(limits);
      case PASSAGES_JSONL -> new PassagesJsonlParser(limits);
      case LOGIC -> new LogicJsonlParser(limits);
      case INSTRUCTIONS -> new InstructionsJsonlParser(limits);
      case SQUAD -> throw new IllegalArgumentException("squad files are JSON documents, not lines");
    };
  }

  public static LineParser of(InputKind kind, long maxRecordBytes, int sampleChars) {
    return of(kind, RecordLimits.of(maxRecordBytes, sampleChars));
  }

  /** Returns null for a blank line. {@code line} is 1-based within the file. */
  public final Parsed parse(String file, long line, byte[] bytes, int length) {
    if (length > maxRecordBytes) {
      return Parsed.rejected(
          table,
          file,
          line,
          RejectReason.of(
              RejectReason.TOO_LARGE,
              "record of "
                  + length
                  + " bytes exceeds editforge.ingest.max-record-bytes ("
                  + maxRecordBytes
                  + ")"),
          sample(
              new String(
                  bytes, 0, (int) Math.min(length, sampleChars * 4L), StandardCharsets.UTF_8)));
    }
    String text;
    try {
      text = Utf8.decodeStrict(bytes, 0, length);
    } catch (CharacterCodingException e) {
      return Parsed.rejected(
          table,
          file,
          line,
          RejectReason.of(RejectReason.INVALID_UTF8, "line is not valid UTF-8"),
          sample(new String(bytes, 0, length, StandardCharsets.UTF_8)));
    }
    if (text.endsWith("\r")) {
      text = text.substring(0, text.length() - 1);
    }
    if (text.isBlank()) {
      return null;
    }
    try {
      return parseLine(file, line, text);
    } catch (Rejected r) {
      return Parsed.rejected(table, file, line, r.reason, sample(text));
    }
  }

  protected abstract Parsed parseLine(String file, long line, String text) throws Rejected;

  protected JsonNode json(String text) throws Rejected {
    RejectReason over = JsonShape.check(text, limits);
    if (over != null) {
      throw new Rejected(over);
    }
    JsonNode node;
    try (JsonParser p = limits.jsonFactory().createParser(text)) {
      node = MAPPER.readTree(p);
    } catch (StreamConstraintsException e) {
      throw new Rejected(RejectReason.TOO_LARGE, "over a limit: " + e.getOriginalMessage());
    } catch (JsonProcessingException e) {
      throw new Rejected(RejectReason.MALFORMED, "malformed JSON: " + e.getOriginalMessage());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return Fields.object(node, "line");
  }

  protected String sample(String text) {
    return limits.sample(text);
  }
}
