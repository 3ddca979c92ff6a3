package dev.editforge.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import dev.editforge.io.Ids;
import dev.editforge.io.Rows;
import dev.editforge.io.Tables;
import dev.editforge.text.Json;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/**
 * Logic problems: {@code {id, problem, questions:[{question, options:[...], answer?}]}}. An answer
 * is an option letter (A, B, ...) or the text of one option; it is stored as the letter.
 */
final class LogicJsonlParser extends LineParser {
  LogicJsonlParser(RecordLimits limits) {
    super(Tables.PROBLEMS, limits);
  }

  @Override
  protected Parsed parseLine(String file, long line, String text) throws Rejected {
    JsonNode o = json(text);
    String id = Fields.id(o, "id");
    String problem = Fields.text(o, "problem", "");
    JsonNode qs = Fields.array(o, "questions", "", true);
    List<Row> questions = new ArrayList<>();
    List<Object> canonical = new ArrayList<>();
    for (int i = 0; i < qs.size(); i++) {
      String where = "questions[" + i + "]";
      JsonNode q = Fields.object(qs.get(i), where);
      String question = Fields.text(q, "question", where);
      List<String> options =
          Fields.texts(Fields.array(q, "options", where, true), where + ".options");
      if (options.size() > 26) {
        throw new Rejected(
            RejectReason.INVALID_VALUE,
            where + ".options has " + options.size() + " options; at most 26");
      }
      String answer = answerLetter(q, options, where);
      questions.add(RowFactory.create(question, Rows.seq(options), answer));
      canonical.add(List.of(question, options, answer == null ? "" : answer));
    }
    String problemId = Ids.of("logic", id, problem, Json.compact(canonical));
    return Parsed.accepted(
        table,
        "logic\u0000" + id,
        problemId,
        file,
        line,
        RowFactory.create(problemId, problem, Rows.seq(questions)));
  }

  private static String answerLetter(JsonNode q, List<String> options, String where)
      throws Rejected {
    JsonNode a = q.get("answer");
    if (a == null || a.isNull()) {
      return null;
    }
    if (!a.isTextual()) {
      throw new Rejected(
          RejectReason.WRONG_TYPE,
          "field " + where + ".answer must be a string, got " + Fields.type(a));
    }
    String s = a.asText().strip();
    if (s.length() == 1 && Character.isLetter(s.charAt(0))) {
      int idx = Character.toUpperCase(s.charAt(0)) - 'A';
      if (idx >= 0 && idx < options.size()) {
        return String.valueOf((char) ('A' + idx));
      }
    }
    int byText = options.indexOf(s);
    if (byText >= 0) {
      return String.valueOf((char) ('A' + byText));
    }
    throw new Rejected(
        RejectReason.INVALID_VALUE,
        where
            + ".answer \""
            + s
            + "\" is neither an option letter A-"
            + (char) ('A' + options.size() - 1)
            + " nor the text of an option");
  }
}
