package dev.editforge.retrieve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.StringReader;
import java.io.StringWriter;
import java.util.List;
import org.junit.jupiter.api.Test;

class QueryReaderTest {

  @Test
  void jsonlRecordsBecomeQueriesAndBadLinesRejectsWithLineNumbers() throws Exception {
    String in =
        String.join(
            "\n",
            "{\"question\": \"Who wrote Hamlet?\", \"answers\": [\"Shakespeare\"], \"id\": 7}",
            "",
            "{\"instruction\": \"Summarize the French Revolution\"}",
            "{\"question\": \"broken",
            "{\"answers\": [\"x\"]}",
            "{\"question\": \"   \"}",
            "[1, 2]",
            "{\"question\": \"Where?\", \"answer\": \"Paris\", \"id\": \"q-paris\"}",
            "{\"question\": \"What?\", \"id\": 1.5}",
            "{\"question\": \"SQuAD shape\", \"answers\": [{\"text\": \"Denver\", \"answer_start\": 3}]}");
    QueryReader.Result r = QueryReader.read(new StringReader(in));
    assertEquals(4, r.queries().size());
    assertEquals(5, r.rejects().size());
    assertEquals(9, r.input());

    QueryReader.Query q0 = r.queries().get(0);
    assertEquals("7", q0.id());
    assertEquals(List.of("Shakespeare"), q0.answers());
    assertEquals(1, q0.line());
    QueryReader.Query q1 = r.queries().get(1);
    assertEquals("Summarize the French Revolution", q1.text());
    assertNull(q1.answers());
    assertTrue(q1.id().matches("q-[0-9a-f]{16}"), q1.id());
    assertEquals(3, q1.line());
    assertEquals(List.of("Paris"), r.queries().get(2).answers());
    assertEquals(List.of("Denver"), r.queries().get(3).answers());

    List<QueryReader.Reject> rj = r.rejects();
    assertEquals(4, rj.get(0).line());
    assertTrue(rj.get(0).reason().startsWith("malformed JSON"), rj.get(0).reason());
    assertEquals(5, rj.get(1).line());
    assertTrue(rj.get(1).reason().contains("no \"question\""));
    assertEquals("empty question", rj.get(2).reason());
    assertEquals("not a JSON object", rj.get(3).reason());
    assertEquals(9, rj.get(4).line());
    assertTrue(rj.get(4).reason().contains("\"id\""));
  }

  @Test
  void idsDerivedFromTheQuestionAreStable() throws Exception {
    String in = "{\"question\": \"same text\"}\n";
    assertEquals(
        QueryReader.read(new StringReader(in)).queries().get(0).id(),
        QueryReader.read(new StringReader("\n" + in)).queries().get(0).id());
  }

  @Test
  void jsonArraysAreReadWithTheLineWhereEachRecordStarts() throws Exception {
    String in =
        "[\n  {\"question\": \"first\"},\n  {\"nope\": 1},\n  {\"question\": \"third\",\n   \"answers\": \"x\"}\n]";
    QueryReader.Result r = QueryReader.read(new StringReader(in));
    assertEquals(2, r.queries().size());
    assertEquals(2, r.queries().get(0).line());
    assertEquals(4, r.queries().get(1).line());
    assertEquals(List.of("x"), r.queries().get(1).answers());
    assertEquals(3, r.rejects().get(0).line());
  }

  @Test
  void aSyntaxErrorInsideAJsonArrayIsReportedNotSwallowed() throws Exception {
    QueryReader.Result r =
        QueryReader.read(new StringReader("[{\"question\": \"ok\"},\n{\"question\": }]"));
    assertEquals(1, r.queries().size());
    assertEquals(1, r.rejects().size());
    assertEquals(2, r.rejects().get(0).line());
    assertTrue(r.rejects().get(0).reason().contains("rest of the file"));
  }

  @Test
  void writerAddsCtxsToTheRecordAsRead() throws Exception {
    QueryReader.Query q =
        QueryReader.read(
                new StringReader(
                    "{\"question\": \"Who won?\", \"answers\": [\"Broncos\"], \"pop\": 3}"))
            .queries()
            .get(0);
    StringWriter out = new StringWriter();
    SelfRagJsonlWriter w = new SelfRagJsonlWriter(out);
    w.write(
        q,
        List.of(
            new Hit("p1", "123", "Super Bowl 50", "The Broncos won.", 0.75),
            new Hit("p2", null, "Other", "Nothing here.", 0.5)));
    String line = out.toString();
    assertTrue(line.endsWith("\n"));
    var node = new com.fasterxml.jackson.databind.ObjectMapper().readTree(line);
    assertEquals(3, node.get("pop").asInt());
    assertEquals("123", node.at("/ctxs/0/id").asText());
    assertEquals("p2", node.at("/ctxs/1/id").asText());
    assertEquals(0.75, node.at("/ctxs/0/score").asDouble());
    assertTrue(node.at("/ctxs/0/hasanswer").asBoolean());
    assertEquals(false, node.at("/ctxs/1/hasanswer").asBoolean());
    assertEquals("Super Bowl 50", node.at("/ctxs/0/title").asText());
    assertEquals(1, w.written());
  }
}
