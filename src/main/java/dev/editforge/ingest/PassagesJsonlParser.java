package dev.editforge.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import dev.editforge.io.Ids;
import dev.editforge.io.Tables;
import org.apache.spark.sql.RowFactory;

/** Self-RAG's passage files: one {@code {id, title, text}} object per line. */
final class PassagesJsonlParser extends LineParser {
  PassagesJsonlParser(RecordLimits limits) {
    super(Tables.PASSAGES, limits);
  }

  @Override
  protected Parsed parseLine(String file, long line, String text) throws Rejected {
    JsonNode o = json(text);
    String id = Fields.id(o, "id");
    String title = Fields.text(o, "title", "");
    String body = Fields.text(o, "text", "");
    String source = InputKind.PASSAGES_JSONL.cliName();
    String passageId = Ids.of(source, id, title, body);
    return Parsed.accepted(
        table,
        source + "\u0000" + id,
        passageId,
        file,
        line,
        RowFactory.create(passageId, id, title, body, source));
  }
}
