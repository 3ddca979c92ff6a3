package dev.editforge.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import dev.editforge.io.Ids;
import dev.editforge.io.Rows;
import dev.editforge.io.Tables;
import dev.editforge.text.Json;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;

/**
 * Instruction rows for mixing into the SFT set: alpaca ({@code instruction, input, output}) or chat
 * ({@code messages:[{role, content}]}). Both are stored as messages; alpaca's input follows the
 * instruction after a blank line, as LLaMA-Factory renders it.
 */
final class InstructionsJsonlParser extends LineParser {
  private static final Set<String> ROLES = Set.of("system", "user", "assistant");

  InstructionsJsonlParser(RecordLimits limits) {
    super(Tables.INSTRUCTIONS, limits);
  }

  @Override
  protected Parsed parseLine(String file, long line, String text) throws Rejected {
    JsonNode o = json(text);
    List<Row> messages = new ArrayList<>();
    List<List<String>> canonical = new ArrayList<>();
    String format;
    if (o.has("messages")) {
      format = "messages";
      JsonNode ms = Fields.array(o, "messages", "", true);
      boolean user = false;
      boolean assistant = false;
      for (int i = 0; i < ms.size(); i++) {
        String where = "messages[" + i + "]";
        JsonNode m = Fields.object(ms.get(i), where);
        String role = Fields.text(m, "role", where);
        if (!ROLES.contains(role)) {
          throw new Rejected(
              RejectReason.INVALID_VALUE,
              where + ".role \"" + role + "\" must be system, user or assistant");
        }
        String content = Fields.text(m, "content", where);
        user |= role.equals("user");
        assistant |= role.equals("assistant");
        messages.add(RowFactory.create(role, content));
        canonical.add(List.of(role, content));
      }
      if (!user || !assistant) {
        throw new Rejected(
            RejectReason.INVALID_VALUE, "messages need at least one user and one assistant turn");
      }
    } else if (o.has("instruction") || o.has("output")) {
      format = "alpaca";
      String instruction = Fields.text(o, "instruction", "");
      String input = Fields.optionalText(o, "input", "");
      String output = Fields.text(o, "output", "");
      String user = input.isBlank() ? instruction : instruction + "\n\n" + input;
      messages.add(RowFactory.create("user", user));
      messages.add(RowFactory.create("assistant", output));
      canonical.add(List.of("user", user));
      canonical.add(List.of("assistant", output));
    } else {
      throw new Rejected(
          RejectReason.MISSING_FIELD,
          "neither an alpaca row (instruction, input, output) nor a chat row (messages)");
    }
    String id = Ids.of("instruction", Json.compact(canonical));
    return Parsed.accepted(
        table, id, id, file, line, RowFactory.create(id, Rows.seq(messages), format));
  }
}
