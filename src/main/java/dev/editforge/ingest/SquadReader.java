package dev.editforge.ingest;

import com.fasterxml.jackson.core.JsonFactory;
import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import dev.editforge.io.Ids;
import dev.editforge.io.Rows;
import dev.editforge.io.Tables;
import dev.editforge.text.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.NoSuchElementException;
import java.util.Set;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/**
 * Streams a SQuAD-style JSON document record by record, never holding the whole file: SEAL's shape
 * (a list of {@code {title, context, questions:[{question, answer}]}}) or the original nested SQuAD
 * v1.1 / v2.0 ({@code data[].paragraphs[].qas[]}, every {@code answers[].text} kept, v2 {@code
 * is_impossible} questions left out and counted). One article per paragraph. A record that is wrong
 * becomes a reject; a document that is not JSON at all is an {@link InputException}. Not
 * thread-safe; the caller closes the stream.
 */
public final class SquadReader implements Iterator<Parsed> {
  private static final ObjectMapper MAPPER = Json.COMPACT;

  private final JsonParser parser;
  private final String file;
  private final long maxRecordBytes;
  private final int sampleChars;
  private final boolean nested;
  private final ArrayDeque<Parsed> pending = new ArrayDeque<>();
  private boolean done;

  public SquadReader(InputStream in, String file, long maxRecordBytes, int sampleChars) {
    this.file = file;
    this.maxRecordBytes = maxRecordBytes;
    this.sampleChars = sampleChars;
    try {
      this.parser = new JsonFactory(MAPPER).createParser(Utf8.markingReader(in));
      JsonToken first = parser.nextToken();
      if (first == JsonToken.START_ARRAY) {
        nested = false;
      } else if (first == JsonToken.START_OBJECT) {
        nested = true;
        seekData();
      } else {
        throw new InputException(
            file
                + " is not a SQuAD file: expected a JSON list of articles (SEAL's shape) "
                + "or an object with \"data\" (SQuAD v1.1/v2.0)");
      }
    } catch (JsonProcessingException e) {
      throw notJson(e);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  private void seekData() throws IOException {
    while (true) {
      JsonToken t = parser.nextToken();
      if (t == null || t == JsonToken.END_OBJECT) {
        throw new InputException(
            file + " is not a SQuAD file: the top-level object has no \"data\" list");
      }
      if (t == JsonToken.FIELD_NAME) {
        String name = parser.currentName();
        JsonToken v = parser.nextToken();
        if ("data".equals(name)) {
          if (v != JsonToken.START_ARRAY) {
            throw new InputException(file + " is not a SQuAD file: \"data\" must be a list");
          }
          return;
        }
        parser.skipChildren();
      }
    }
  }

  @Override
  public boolean hasNext() {
    while (pending.isEmpty() && !done) {
      advance();
    }
    return !pending.isEmpty();
  }

  @Override
  public Parsed next() {
    if (!hasNext()) {
      throw new NoSuchElementException();
    }
    return pending.poll();
  }

  private void advance() {
    try {
      JsonToken t = parser.nextToken();
      if (t == JsonToken.END_ARRAY || t == null) {
        done = true;
        return;
      }
      JsonLocation start = parser.currentTokenLocation();
      long line = start.getLineNr();
      JsonNode node = MAPPER.readTree(parser);
      long chars = parser.currentLocation().getCharOffset() - start.getCharOffset();
      if (chars > maxRecordBytes) {
        pending.add(
            reject(
                line,
                RejectReason.of(
                    RejectReason.TOO_LARGE,
                    "record of about "
                        + chars
                        + " characters exceeds editforge.ingest.max-record-bytes ("
                        + maxRecordBytes
                        + ")"),
                node));
        return;
      }
      if (nested) {
        readNestedArticle(node, line);
      } else {
        try {
          pending.add(sealArticle(node, line));
        } catch (Rejected r) {
          pending.add(reject(line, r.reason, node));
        }
      }
    } catch (JsonProcessingException e) {
      throw notJson(e);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  private Parsed sealArticle(JsonNode node, long line) throws Rejected {
    JsonNode o = Fields.object(node, "article");
    String title = Fields.text(o, "title", "");
    String context = Fields.text(o, "context", "");
    JsonNode qs = Fields.array(o, "questions", "", true);
    List<String[]> questions = new ArrayList<>();
    List<List<String>> answers = new ArrayList<>();
    for (int i = 0; i < qs.size(); i++) {
      String where = "questions[" + i + "]";
      JsonNode q = Fields.object(qs.get(i), where);
      String question = Fields.text(q, "question", where);
      List<String> golds;
      if (q.has("answers")) {
        golds = Fields.texts(Fields.array(q, "answers", where, true), where + ".answers");
      } else {
        golds = List.of(Fields.text(q, "answer", where));
      }
      questions.add(new String[] {null, question});
      answers.add(golds);
    }
    return article(title, context, questions, answers, line, 0);
  }

  private void readNestedArticle(JsonNode node, long line) {
    JsonNode a;
    String title;
    JsonNode paragraphs;
    try {
      a = Fields.object(node, "data[] entry");
      title = Fields.text(a, "title", "");
      paragraphs = Fields.array(a, "paragraphs", "", true);
    } catch (Rejected r) {
      pending.add(reject(line, r.reason, node));
      return;
    }
    for (int p = 0; p < paragraphs.size(); p++) {
      JsonNode para = paragraphs.get(p);
      String where = "paragraphs[" + p + "]";
      long impossible = 0;
      try {
        Fields.object(para, where);
        String context = Fields.text(para, "context", where);
        JsonNode qas = Fields.array(para, "qas", where, true);
        List<String[]> questions = new ArrayList<>();
        List<List<String>> answers = new ArrayList<>();
        for (int i = 0; i < qas.size(); i++) {
          String qw = where + ".qas[" + i + "]";
          JsonNode q = Fields.object(qas.get(i), qw);
          if (q.path("is_impossible").asBoolean(false)) {
            impossible++;
            continue;
          }
          String question = Fields.text(q, "question", qw);
          String id = q.hasNonNull("id") ? Fields.id(q, "id") : null;
          JsonNode ans = Fields.array(q, "answers", qw, true);
          Set<String> golds = new LinkedHashSet<>();
          for (int k = 0; k < ans.size(); k++) {
            golds.add(
                Fields.text(
                    Fields.object(ans.get(k), qw + ".answers[" + k + "]"),
                    "text",
                    qw + ".answers[" + k + "]"));
          }
          questions.add(new String[] {id, question});
          answers.add(List.copyOf(golds));
        }
        if (questions.isEmpty()) {
          throw new Rejected(
              RejectReason.INVALID_VALUE,
              where
                  + " ("
                  + title
                  + ") has no answerable question: all "
                  + impossible
                  + " are is_impossible");
        }
        pending.add(article(title, context, questions, answers, line, impossible));
      } catch (Rejected r) {
        pending.add(
            reject(
                    line,
                    RejectReason.of(r.reason.category(), where + ": " + r.reason.message()),
                    para)
                .withLeftOut(impossible));
      }
    }
  }

  private Parsed article(
      String title,
      String context,
      List<String[]> questions,
      List<List<String>> answers,
      long line,
      long impossible) {
    String articleId = Ids.of("article", title, context);
    List<Row> qrows = new ArrayList<>();
    for (int i = 0; i < questions.size(); i++) {
      String[] q = questions.get(i);
      String qid = q[0] != null ? q[0] : Ids.of(articleId, q[1], Integer.toString(i));
      qrows.add(RowFactory.create(qid, q[1], Rows.seq(answers.get(i))));
    }
    String contentHash =
        Ids.of(
            articleId,
            Json.compact(questions.stream().map(q -> q[1]).toList()),
            Json.compact(answers));
    return Parsed.accepted(
            Tables.ARTICLES,
            articleId,
            contentHash,
            file,
            line,
            RowFactory.create(articleId, title, context, Rows.seq(qrows)))
        .withLeftOut(impossible);
  }

  private Parsed reject(long line, RejectReason reason, JsonNode node) {
    String raw = node == null ? "" : node.toString();
    if (raw.length() > sampleChars) {
      raw = raw.substring(0, sampleChars) + "...";
    }
    return Parsed.rejected(Tables.ARTICLES, file, line, reason, raw);
  }

  private InputException notJson(JsonProcessingException e) {
    JsonLocation loc = e.getLocation();
    String where =
        loc == null ? "" : " at line " + loc.getLineNr() + ", column " + loc.getColumnNr();
    return new InputException(
        file + " is not valid JSON" + where + ": " + e.getOriginalMessage(), e);
  }
}
