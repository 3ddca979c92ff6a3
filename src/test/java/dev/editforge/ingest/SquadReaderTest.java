package dev.editforge.ingest;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.Test;

class SquadReaderTest {
  private static List<Parsed> read(byte[] doc, long max) {
    SquadReader r = new SquadReader(new ByteArrayInputStream(doc), "doc.json", max, 300);
    List<Parsed> out = new ArrayList<>();
    r.forEachRemaining(out::add);
    return out;
  }

  private static List<Parsed> read(String doc) {
    return read(doc.getBytes(StandardCharsets.UTF_8), 1 << 20);
  }

  @Test
  void sealShapeGivesOneArticleWithItsQuestions() {
    List<Parsed> out =
        read(
            "[\n{\"title\": \"Veltmoor\", \"context\": \"An island.\", \"questions\": ["
                + "{\"question\": \"What is it?\", \"answer\": \"An island\"}]},\n"
                + "{\"title\": \"B\", \"context\": \"C\", \"questions\": [{\"question\": \"q\", \"answer\": \"a\"}]}\n]");
    assertEquals(2, out.size());
    Parsed p = out.get(0);
    assertTrue(p.isAccepted());
    assertEquals(2, p.line);
    assertEquals("Veltmoor", p.row.getString(1));
    List<Row> qs = p.row.getList(3);
    assertEquals("What is it?", qs.get(0).getString(1));
    assertEquals(List.of("An island"), qs.get(0).getList(2));
    assertEquals(3, out.get(1).line);
  }

  @Test
  void nestedSquadKeepsAllAnswersAndLeavesOutUnanswerable() {
    List<Parsed> out =
        read(
            "{\"version\": \"v2.0\", \"data\": [{\"title\": \"T\", \"paragraphs\": ["
                + "{\"context\": \"ctx one\", \"qas\": ["
                + "{\"id\": \"q1\", \"question\": \"Q1?\", \"answers\": [{\"text\": \"a\"}, {\"text\": \"b\"}, {\"text\": \"a\"}]},"
                + "{\"id\": \"q2\", \"question\": \"Q2?\", \"answers\": [], \"is_impossible\": true}]},"
                + "{\"context\": \"ctx two\", \"qas\": [{\"id\": \"q3\", \"question\": \"Q3?\", \"answers\": [], \"is_impossible\": true}]}"
                + "]}]}");
    assertEquals(2, out.size());
    Parsed ok = out.get(0);
    assertTrue(ok.isAccepted());
    assertEquals(1, ok.leftOut);
    List<Row> qs = ok.row.getList(3);
    assertEquals(1, qs.size());
    assertEquals("q1", qs.get(0).getString(0));
    assertEquals(List.of("a", "b"), qs.get(0).getList(2));
    Parsed allImpossible = out.get(1);
    assertFalse(allImpossible.isAccepted());
    assertEquals(1, allImpossible.leftOut, "its unanswerable question is still counted");
    assertTrue(allImpossible.reason.contains("no answerable question"), allImpossible.reason);
  }

  @Test
  void badRecordsAreRejectedAndTheRestStillParses() {
    List<Parsed> out =
        read(
            "[{\"title\": \"T\", \"questions\": []},"
                + "{\"title\": 3, \"context\": \"c\", \"questions\": [{\"question\": \"q\", \"answer\": \"a\"}]},"
                + "{\"title\": \"T\", \"context\": \" \", \"questions\": [{\"question\": \"q\", \"answer\": \"a\"}]},"
                + "{\"title\": \"T\", \"context\": \"c\", \"questions\": [{\"question\": \"q\"}]},"
                + "{\"title\": \"T\", \"context\": \"c\", \"questions\": [{\"question\": \"q\", \"answer\": \"a\"}]}]");
    assertEquals(5, out.size());
    assertEquals(RejectReason.MISSING_FIELD, out.get(0).category);
    assertEquals(RejectReason.WRONG_TYPE, out.get(1).category);
    assertEquals(RejectReason.EMPTY_FIELD, out.get(2).category);
    assertEquals(RejectReason.MISSING_FIELD, out.get(3).category);
    assertTrue(out.get(3).reason.contains("questions[0].answer"), out.get(3).reason);
    assertTrue(out.get(4).isAccepted());
  }

  @Test
  void invalidUtf8InsideOneRecordRejectsOnlyThatRecord() throws Exception {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.write("[{\"title\": \"T\", \"context\": \"bad ".getBytes(StandardCharsets.UTF_8));
    b.write(new byte[] {(byte) 0xFF, (byte) 0xFE});
    b.write(
        "\", \"questions\": [{\"question\": \"q\", \"answer\": \"a\"}]},\n"
            .getBytes(StandardCharsets.UTF_8));
    b.write(
        "{\"title\": \"Ünïcödé\", \"context\": \"fine\", \"questions\": [{\"question\": \"q\", \"answer\": \"a\"}]}]"
            .getBytes(StandardCharsets.UTF_8));
    List<Parsed> out = read(b.toByteArray(), 1 << 20);
    assertEquals(2, out.size());
    assertEquals(RejectReason.INVALID_UTF8, out.get(0).category);
    assertTrue(out.get(1).isAccepted());
    assertEquals("Ünïcödé", out.get(1).row.getString(1));
  }

  @Test
  void oversizedRecordIsRejected() {
    String big = "x".repeat(500);
    List<Parsed> out =
        read(
            ("[{\"title\": \"T\", \"context\": \""
                    + big
                    + "\", \"questions\": "
                    + "[{\"question\": \"q\", \"answer\": \"a\"}]}]")
                .getBytes(StandardCharsets.UTF_8),
            200);
    assertEquals(RejectReason.TOO_LARGE, out.get(0).category);
  }

  @Test
  void aDocumentThatIsNotSquadIsAWholeFileError() {
    InputException cut =
        assertThrows(InputException.class, () -> read("[{\"title\": \"T\", \"context\": \"c\""));
    assertTrue(cut.getMessage().contains("not valid JSON at line 1"), cut.getMessage());
    assertTrue(cut.getMessage().contains("ends inside record 0"), cut.getMessage());
    InputException noData = assertThrows(InputException.class, () -> read("{\"version\": 1}"));
    assertTrue(noData.getMessage().contains("no \"data\""), noData.getMessage());
    assertThrows(InputException.class, () -> read("\"just a string\""));
    assertThrows(InputException.class, () -> read("{\"data\": {\"title\": \"T\"}}"));
  }

  private static final String GOOD =
      "{\"title\": \"T%d\", \"context\": \"c\", \"questions\": [{\"question\": \"q\", \"answer\": \"a\"}]}";

  private static String good(int i) {
    return String.format(GOOD, i);
  }

  private static List<Parsed> read(String doc, RecordLimits limits) {
    SquadReader r =
        new SquadReader(
            new ByteArrayInputStream(doc.getBytes(StandardCharsets.UTF_8)), "doc.json", limits);
    List<Parsed> out = new ArrayList<>();
    r.forEachRemaining(out::add);
    return out;
  }

  @Test
  void aRecordNestedTooDeepIsRejectedAloneWithItsArticleIndex() {
    // 1,001 deep: past Jackson's own default limit, which used to abort the whole file.
    String deep = "[".repeat(1001) + "]".repeat(1001);
    String doc =
        "[\n"
            + good(0)
            + ",\n{\"title\": \"D\", \"context\": \"c\", \"extra\": "
            + deep
            + "},\n"
            + good(2)
            + "\n]";
    List<Parsed> out = read(doc.getBytes(StandardCharsets.UTF_8), 1 << 20);
    assertEquals(3, out.size());
    assertTrue(out.get(0).isAccepted());
    Parsed deepOne = out.get(1);
    assertEquals(RejectReason.TOO_DEEP, deepOne.category, deepOne.reason);
    assertTrue(deepOne.reason.startsWith("article 1: "), deepOne.reason);
    assertTrue(deepOne.reason.contains("editforge.ingest.max-depth (1000)"), deepOne.reason);
    assertEquals(3, deepOne.line);
    assertTrue(out.get(2).isAccepted());
    assertEquals("T2", out.get(2).row.getString(1));

    List<Parsed> limited = read(doc, new RecordLimits(1 << 20, 3, 1000, 100));
    assertEquals(RejectReason.TOO_DEEP, limited.get(1).category, "the configured depth binds");
    assertTrue(limited.get(0).isAccepted(), "a SEAL record is 3 deep");
    assertTrue(limited.get(1).raw.length() <= 103, "only a sample of it is kept");
  }

  @Test
  void nestedSquadEntriesAreLimitedOneByOneEvenAfterLargeUnrelatedKeys() {
    String entry =
        "{\"title\": \"T%d\", \"paragraphs\": [{\"context\": \"ctx\", \"qas\": [{\"id\": \"q%d\","
            + " \"question\": \"Q?\", \"answers\": [{\"text\": \"a\"}]}]}]}";
    String doc =
        "{\"meta\": {\"x\": [[[\"]\"]]], \"y\": \"}\"}, \"data\": ["
            + String.format(entry, 0, 0)
            + ", {\"title\": \"x\", \"paragraphs\": [[[[[[[[[[]]]]]]]]]]}, "
            + String.format(entry, 2, 2)
            + "], \"version\": \"1.1\"}";
    List<Parsed> out = read(doc, new RecordLimits(1 << 20, 8, 1000, 100));
    assertEquals(3, out.size());
    assertTrue(out.get(0).isAccepted(), out.get(0).reason);
    assertEquals(RejectReason.TOO_DEEP, out.get(1).category);
    assertTrue(out.get(1).reason.startsWith("article 1: "), out.get(1).reason);
    assertTrue(out.get(2).isAccepted());
  }

  @Test
  void aStringOverTheConfiguredLimitIsRejectedAndTheRestIsRead() {
    String doc =
        "["
            + good(0)
            + ", {\"title\": \"L\", \"context\": \""
            + "y".repeat(2000)
            + "\", \"questions\": [{\"question\": \"q\", \"answer\": \"a\"}]}, "
            + good(2)
            + "]";
    List<Parsed> out = read(doc, new RecordLimits(1 << 20, 100, 1000, 100));
    assertEquals(3, out.size());
    assertEquals(RejectReason.TOO_LARGE, out.get(1).category);
    assertTrue(out.get(1).reason.contains("max-string-chars (1000)"), out.get(1).reason);
    assertTrue(out.get(0).isAccepted() && out.get(2).isAccepted());
  }

  @Test
  void aMalformedRecordIsRejectedWithTheLineOfTheErrorAndTheRestIsRead() {
    String doc = "[\n" + good(0) + ",\n{\"title\": \"T\",,\n \"x\": 1},\n" + good(2) + "\n]\n";
    List<Parsed> out = read(doc);
    assertEquals(3, out.size());
    Parsed bad = out.get(1);
    assertEquals(RejectReason.MALFORMED, bad.category);
    assertTrue(bad.reason.startsWith("article 1: malformed JSON at line 3"), bad.reason);
    assertFalse(bad.reason.contains("is not valid JSON"), bad.reason);
    assertEquals(3, bad.line);
    assertTrue(out.get(2).isAccepted());

    List<Parsed> trailing = read("[" + good(0) + " " + good(1) + "]");
    assertEquals(RejectReason.MALFORMED, trailing.get(0).category, "a missing comma");
  }

  @Test
  void aByteOrderMarkIsAccepted() throws Exception {
    ByteArrayOutputStream b = new ByteArrayOutputStream();
    b.write(new byte[] {(byte) 0xEF, (byte) 0xBB, (byte) 0xBF});
    b.write(("[" + good(0) + "]").getBytes(StandardCharsets.UTF_8));
    List<Parsed> out = read(b.toByteArray(), 1 << 20);
    assertEquals(1, out.size());
    assertTrue(out.get(0).isAccepted(), out.get(0).reason);
  }

  @Test
  void anEmptyListHoldsNoRecords() {
    assertEquals(List.of(), read("[ ]"));
    assertEquals(List.of(), read("{\"data\": []}"));
  }
}
