package dev.editforge.retrieve;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.editforge.text.Json;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.io.Writer;
import java.util.List;

/**
 * Writes retrieval results the way Self-RAG's (contriever's) {@code passage_retrieval.py} does:
 * each input record as read, plus {@code ctxs}, a best-first list of {@code {id, title, text,
 * score}} and, when the query has answers, {@code hasanswer} per passage ({@link AnswerMatch}).
 * {@code id} is the passage's source id (the DPR id) when it has one. Scores are JSON numbers.
 *
 * <p>Not thread-safe (one output stream). Does not own the writer: the caller closes it.
 */
public final class SelfRagJsonlWriter {
  private final Writer out;
  private long written;

  public SelfRagJsonlWriter(Writer out) {
    this.out = out;
  }

  public void write(QueryReader.Query query, List<Hit> hits) {
    ObjectNode rec =
        query.source() != null ? query.source().deepCopy() : Json.MAPPER.createObjectNode();
    if (query.source() == null) {
      rec.put("id", query.id());
      rec.put("question", query.text());
    }
    ArrayNode ctxs = rec.putArray("ctxs");
    for (Hit h : hits) {
      ObjectNode c = ctxs.addObject();
      c.put("id", h.selfRagId());
      c.put("title", h.title());
      c.put("text", h.text());
      c.put("score", h.score());
      if (query.answers() != null) {
        c.put("hasanswer", AnswerMatch.hasAnswer(query.answers(), h.text()));
      }
    }
    try {
      out.write(Json.compact(rec)); // one line: the shared mapper indents
      out.write('\n');
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write retrieval result for query " + query.id(), e);
    }
    written++;
  }

  public long written() {
    return written;
  }
}
