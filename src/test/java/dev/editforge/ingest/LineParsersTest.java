package dev.editforge.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.charset.StandardCharsets;
import java.util.List;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

class LineParsersTest {
  private static final long MAX = 1024;

  private static Parsed parse(InputKind kind, String line) {
    byte[] b = line.getBytes(StandardCharsets.UTF_8);
    return LineParser.of(kind, MAX, 200).parse("f.txt", 7, b, b.length);
  }

  private static Parsed parseBytes(InputKind kind, byte[] b) {
    return LineParser.of(kind, MAX, 200).parse("f.txt", 7, b, b.length);
  }

  private static void assertRejected(Parsed p, String category, String messagePart) {
    assertFalse(p.isAccepted(), "expected a reject, got " + p);
    assertEquals(category, p.category, p.reason);
    assertTrue(
        p.reason.contains(messagePart),
        "reason \"" + p.reason + "\" should mention " + messagePart);
    assertEquals("f.txt", p.file);
    assertEquals(7, p.line);
  }

  @Test
  void dprParsesPlainAndQuotedFields() {
    Parsed p = parse(InputKind.DPR, "17\t\"Aaron (or \"\"Aharon\"\") was a prophet\"\tAaron");
    assertTrue(p.isAccepted(), String.valueOf(p.reason));
    Row r = p.row;
    assertEquals("17", r.getString(1));
    assertEquals("Aaron", r.getString(2));
    assertEquals("Aaron (or \"Aharon\") was a prophet", r.getString(3));
    assertEquals("dpr", r.getString(4));
    assertEquals(r.getString(0), p.contentHash);
    assertEquals(32, r.getString(0).length());
  }

  @Test
  void dprIdsAreStableAndContentSensitive() {
    Parsed a = parse(InputKind.DPR, "1\tsome text\tTitle");
    Parsed b = parse(InputKind.DPR, "1\tsome text\tTitle");
    Parsed c = parse(InputKind.DPR, "1\tother text\tTitle");
    assertEquals(a.row.getString(0), b.row.getString(0));
    assertEquals(a.key, c.key, "same source id, same dedup key");
    assertFalse(a.contentHash.equals(c.contentHash), "different content, different hash");
  }

  @Test
  void dprHeaderOnLineOneIsSkippedAndBlankLinesAreNotRecords() {
    byte[] h = "id\ttext\ttitle".getBytes(StandardCharsets.UTF_8);
    assertNull(LineParser.of(InputKind.DPR, MAX, 200).parse("f", 1, h, h.length));
    assertNull(parse(InputKind.DPR, "   "));
  }

  @Test
  void dprRejectsBadShapes() {
    assertRejected(parse(InputKind.DPR, "1\tonly two"), RejectReason.MALFORMED, "found 2");
    assertRejected(parse(InputKind.DPR, "1\ta\tb\tc"), RejectReason.MALFORMED, "found 4");
    assertRejected(parse(InputKind.DPR, "1\t\tTitle"), RejectReason.EMPTY_FIELD, "text");
    assertRejected(parse(InputKind.DPR, "\ttext\tTitle"), RejectReason.EMPTY_FIELD, "id");
    assertRejected(
        parse(InputKind.DPR, "1\t\"never closed\tTitle"), RejectReason.MALFORMED, "unterminated");
  }

  @Test
  void everyKindRejectsInvalidUtf8AndOversizedRecords() {
    byte[] bad = {'1', '\t', 'a', (byte) 0xC3, (byte) 0x28, '\t', 'T'};
    for (InputKind kind :
        List.of(InputKind.DPR, InputKind.PASSAGES_JSONL, InputKind.LOGIC, InputKind.INSTRUCTIONS)) {
      assertRejected(parseBytes(kind, bad), RejectReason.INVALID_UTF8, "UTF-8");
      assertRejected(
          parse(kind, "x".repeat((int) MAX + 1)), RejectReason.TOO_LARGE, "max-record-bytes");
    }
  }

  @Test
  void passagesJsonl() {
    Parsed ok =
        parse(InputKind.PASSAGES_JSONL, "{\"id\": 42, \"title\": \"T\", \"text\": \"Body.\"}");
    assertTrue(ok.isAccepted());
    assertEquals("42", ok.row.getString(1));
    assertEquals("passages-jsonl", ok.row.getString(4));
    assertRejected(
        parse(InputKind.PASSAGES_JSONL, "{\"id\": 1, \"title\": \"T\", \"text\": "),
        RejectReason.MALFORMED,
        "malformed JSON");
    assertRejected(parse(InputKind.PASSAGES_JSONL, "[1, 2]"), RejectReason.WRONG_TYPE, "object");
    assertRejected(
        parse(InputKind.PASSAGES_JSONL, "{\"id\": 1, \"text\": \"x\"}"),
        RejectReason.MISSING_FIELD,
        "title");
    assertRejected(
        parse(InputKind.PASSAGES_JSONL, "{\"id\": 1, \"title\": \"T\", \"text\": \"  \"}"),
        RejectReason.EMPTY_FIELD,
        "text");
    assertRejected(
        parse(InputKind.PASSAGES_JSONL, "{\"id\": 1, \"title\": 5, \"text\": \"x\"}"),
        RejectReason.WRONG_TYPE,
        "title must be a string");
    assertRejected(
        parse(InputKind.PASSAGES_JSONL, "{\"id\": [1], \"title\": \"T\", \"text\": \"x\"}"),
        RejectReason.WRONG_TYPE,
        "id");
  }

  @Test
  void logicStoresAnswersAsLettersAndKeepsUnlabeledQuestions() {
    Parsed ok =
        parse(
            InputKind.LOGIC,
            "{\"id\": \"L1\", \"problem\": \"P\", \"questions\": ["
                + "{\"question\": \"q1\", \"options\": [\"x\", \"y\", \"z\"], \"answer\": \"b\"},"
                + "{\"question\": \"q2\", \"options\": [\"x\", \"y\"], \"answer\": \"y\"},"
                + "{\"question\": \"q3\", \"options\": [\"x\", \"y\"]}]}");
    assertTrue(ok.isAccepted(), String.valueOf(ok.reason));
    List<Row> qs = ok.row.getList(2);
    assertEquals("B", qs.get(0).getString(2));
    assertEquals("B", qs.get(1).getString(2));
    assertTrue(qs.get(2).isNullAt(2));
    assertRejected(
        parse(
            InputKind.LOGIC,
            "{\"id\": \"L1\", \"problem\": \"P\", \"questions\": ["
                + "{\"question\": \"q\", \"options\": [\"x\", \"y\"], \"answer\": \"E\"}]}"),
        RejectReason.INVALID_VALUE,
        "option letter");
    assertRejected(
        parse(InputKind.LOGIC, "{\"id\": \"L1\", \"problem\": \"P\", \"questions\": []}"),
        RejectReason.EMPTY_FIELD,
        "questions");
    assertRejected(
        parse(
            InputKind.LOGIC,
            "{\"id\": \"L1\", \"problem\": \"P\", \"questions\": ["
                + "{\"question\": \"q\", \"options\": \"x\"}]}"),
        RejectReason.WRONG_TYPE,
        "options must be a list");
  }

  @Test
  void instructionsAcceptAlpacaAndMessages() {
    Parsed alpaca =
        parse(
            InputKind.INSTRUCTIONS,
            "{\"instruction\": \"Sum\", \"input\": \"1+1\", \"output\": \"2\"}");
    assertTrue(alpaca.isAccepted());
    List<Row> m = alpaca.row.getList(1);
    assertEquals("Sum\n\n1+1", m.get(0).getString(1));
    assertEquals("assistant", m.get(1).getString(0));
    assertEquals("alpaca", alpaca.row.getString(2));
    Parsed chat =
        parse(
            InputKind.INSTRUCTIONS,
            "{\"messages\": [{\"role\": \"system\", \"content\": \"s\"},"
                + "{\"role\": \"user\", \"content\": \"u\"}, {\"role\": \"assistant\", \"content\": \"a\"}]}");
    assertTrue(chat.isAccepted());
    assertEquals(3, chat.row.getList(1).size());
    assertRejected(
        parse(InputKind.INSTRUCTIONS, "{\"messages\": [{\"role\": \"bot\", \"content\": \"x\"}]}"),
        RejectReason.INVALID_VALUE,
        "role");
    assertRejected(
        parse(InputKind.INSTRUCTIONS, "{\"messages\": [{\"role\": \"user\", \"content\": \"x\"}]}"),
        RejectReason.INVALID_VALUE,
        "assistant");
    assertRejected(
        parse(InputKind.INSTRUCTIONS, "{\"prompt\": \"x\"}"), RejectReason.MISSING_FIELD, "alpaca");
    assertRejected(
        parse(InputKind.INSTRUCTIONS, "{\"instruction\": \"x\"}"),
        RejectReason.MISSING_FIELD,
        "output");
  }

  @Test
  void deduplicationKeepsFirstCountsCopiesAndRejectsConflicts() {
    Parsed first = parse(InputKind.DPR, "1\ttext\tT");
    byte[] same = "1\ttext\tT".getBytes(StandardCharsets.UTF_8);
    byte[] other = "1\tother\tT".getBytes(StandardCharsets.UTF_8);
    Parsed copy = LineParser.of(InputKind.DPR, MAX, 200).parse("g.txt", 3, same, same.length);
    Parsed conflict = LineParser.of(InputKind.DPR, MAX, 200).parse("g.txt", 9, other, other.length);
    List<Outcome> out = Deduplication.resolve(List.of(conflict, copy, first));
    assertEquals(Outcome.Kind.ACCEPTED, out.get(0).kind());
    assertEquals("f.txt", out.get(0).record().file, "first in source order wins");
    assertEquals(Outcome.Kind.DUPLICATE, out.get(1).kind());
    assertEquals(Outcome.Kind.REJECTED, out.get(2).kind());
    assertEquals(RejectReason.ID_CONFLICT, out.get(2).record().category);
    assertTrue(out.get(2).record().reason.contains("f.txt:7"), out.get(2).record().reason);
    assertEquals(9, out.get(2).record().line);
  }

  @Test
  void jsonLinesTooDeepOrWithTooLongAStringAreRejectedByTheConfiguredLimits() {
    RecordLimits limits = new RecordLimits(1 << 20, 10, 50, 200);
    String deep =
        "{\"id\": 1, \"title\": \"T\", \"text\": \"t\", \"x\": "
            + "[".repeat(1001)
            + "]".repeat(1001)
            + "}";
    byte[] b = deep.getBytes(StandardCharsets.UTF_8);
    assertRejected(
        LineParser.of(InputKind.PASSAGES_JSONL, limits).parse("f.txt", 7, b, b.length),
        RejectReason.TOO_DEEP,
        "editforge.ingest.max-depth (10)");
    byte[] longText =
        ("{\"id\": 1, \"title\": \"T\", \"text\": \"" + "z".repeat(51) + "\"}")
            .getBytes(StandardCharsets.UTF_8);
    assertRejected(
        LineParser.of(InputKind.PASSAGES_JSONL, limits)
            .parse("f.txt", 7, longText, longText.length),
        RejectReason.TOO_LARGE,
        "editforge.ingest.max-string-chars (50)");
  }

  @Test
  void rejectReasonsAndSamplesCarryNoControlCharacters() {
    String hostile = "\u001b]0;pwned\u0007\u001b[2J";
    Parsed p =
        parse(
            InputKind.LOGIC,
            "{\"id\": \"" + hostile + "\", \"problem\": 4, \"x\": \"" + hostile + "\"}");
    assertFalse(p.isAccepted());
    Parsed dpr = parse(InputKind.DPR, "1\t\u001b[2J only two");
    for (Parsed r : List.of(p, dpr)) {
      assertFalse(r.raw.contains("\u001b"), r.raw);
      assertFalse(r.reason.contains("\u001b"), r.reason);
      assertTrue(r.raw.contains("\\u001b"), "visible instead: " + r.raw);
    }
  }
}
