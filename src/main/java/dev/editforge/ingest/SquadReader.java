package dev.editforge.ingest;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.exc.StreamConstraintsException;
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
 * is_impossible} questions left out and counted). One article per paragraph. {@link
 * JsonListSplitter} cuts the list into records, so a record that is too large, too deep or not
 * valid JSON becomes a reject naming its article index (0-based, in the list or in {@code data})
 * while the rest of the file is still read; only a document whose list itself is broken is an
 * {@link InputException}. Not thread-safe; the caller closes the stream.
 */
public final class SquadReader implements Iterator<Parsed> {
  private static final ObjectMapper MAPPER = Json.COMPACT;

  private final JsonListSplitter records;
  private final String file;
  private final RecordLimits limits;
  private final boolean nested;
  private final ArrayDeque<Parsed> pending = new ArrayDeque<>();
  private boolean done;

  public SquadReader(InputStream in, String file, RecordLimits limits) {
    this.file = file;
    this.limits = limits;
    this.records = new JsonListSplitter(Utf8.markingReader(in), file, limits);
    try {
      nested =
          records.open(
              "data",
              file
                  + " is not a SQuAD file: expected a JSON list of articles (SEAL's shape) "
                  + "or an object with \"data\" (SQuAD v1.1/v2.0)");
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  public SquadReader(InputStream in, String file, long maxRecordBytes, int sampleChars) {
    this(in, file, RecordLimits.of(maxRecordBytes, sampleChars));
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
    JsonListSplitter.Item item;
    try {
      item = records.next();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
    if (item == null) {
      done = true;
      return;
    }
    String where = "article " + item.index();
    if (item.overLimit() != null) {
      pending.add(reject(item.line(), where, item.overLimit(), item.sample()));
      return;
    }
    JsonNode node;
    try {
      node = parse(item);
    } catch (Rejected r) {
      pending.add(reject(item.line(), where, r.reason, limits.sample(item.text())));
      return;
    }
    if (nested) {
      readNestedArticle(node, item.line(), where);
    } else {
      try {
        pending.add(sealArticle(node, item.line()));
      } catch (Rejected r) {
        pending.add(reject(item.line(), where, r.reason, raw(node)));
      }
    }
  }

  private JsonNode parse(JsonListSplitter.Item item) throws Rejected {
    try (JsonParser p = limits.jsonFactory().createParser(item.text())) {
      JsonNode node = MAPPER.readTree(p);
      if (p.nextToken() != null) {
        throw new Rejected(
            RejectReason.MALFORMED,
            "malformed JSON: unexpected text after the record, at line "
                + fileLine(item, p.currentTokenLocation()));
      }
      return node;
    } catch (StreamConstraintsException e) {
      // JsonShape rejects these first; kept so a gap between the two never aborts the file.
      throw new Rejected(RejectReason.TOO_LARGE, "over a limit: " + e.getOriginalMessage());
    } catch (JsonProcessingException e) {
      throw new Rejected(
          RejectReason.MALFORMED,
          "malformed JSON at line "
              + fileLine(item, e.getLocation())
              + ": "
              + e.getOriginalMessage());
    } catch (IOException e) {
      throw new UncheckedIOException("cannot parse a record of " + file, e);
    }
  }

  /** A line within the record, counted from the start of the file. */
  private static long fileLine(JsonListSplitter.Item item, JsonLocation loc) {
    return loc == null || loc.getLineNr() < 1 ? item.line() : item.line() + loc.getLineNr() - 1;
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

  private void readNestedArticle(JsonNode node, long line, String article) {
    JsonNode a;
    String title;
    JsonNode paragraphs;
    try {
      a = Fields.object(node, "data[] entry");
      title = Fields.text(a, "title", "");
      paragraphs = Fields.array(a, "paragraphs", "", true);
    } catch (Rejected r) {
      pending.add(reject(line, article, r.reason, raw(node)));
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
            reject(line, article + ": " + where, r.reason, raw(para)).withLeftOut(impossible));
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

  private Parsed reject(long line, String where, RejectReason reason, String raw) {
    return Parsed.rejected(
        Tables.ARTICLES,
        file,
        line,
        RejectReason.of(reason.category(), where + ": " + reason.message()),
        raw);
  }

  private String raw(JsonNode node) {
    return node == null ? "" : limits.sample(node.toString());
  }
}
