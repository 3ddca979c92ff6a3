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
    InputException notJson =
        assertThrows(InputException.class, () -> read("[{\"title\": \"T\",, }]"));
    assertTrue(notJson.getMessage().contains("not valid JSON at line 1"), notJson.getMessage());
    InputException noData = assertThrows(InputException.class, () -> read("{\"version\": 1}"));
    assertTrue(noData.getMessage().contains("no \"data\""), noData.getMessage());
    assertThrows(InputException.class, () -> read("\"just a string\""));
  }
}
