package dev.editforge.select;

import com.fasterxml.jackson.databind.JsonNode;
import dev.editforge.io.Ids;
import dev.editforge.io.SftRow;
import dev.editforge.io.SftSource;
import dev.editforge.llm.ChatMessage;
import dev.editforge.text.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * General instruction data mixed into the SFT set so the tuned model keeps following ordinary
 * instructions. Two record shapes are accepted, in a JSON array or JSONL:
 *
 * <ul>
 *   <li>alpaca: {@code {instruction, input?, output, system?}} — the prompt is the instruction,
 *       then a newline and the input when there is one (LLaMA-Factory's joining);
 *   <li>messages: {@code {messages: [{role, content}, ...]}} — optional leading system turn, then
 *       user/assistant turns alternating, ending with the assistant. prompt/completion are the last
 *       exchange; {@code messages} keeps the whole conversation.
 * </ul>
 */
public final class InstructionData {
  private InstructionData() {}

  public static SftRow fromAlpaca(String instruction, String input, String output, String system) {
    if (instruction == null || instruction.isBlank() || output == null) {
      throw new IllegalArgumentException(
          "an alpaca record needs a non-empty instruction and an output");
    }
    String prompt = input == null || input.isEmpty() ? instruction : instruction + "\n" + input;
    List<ChatMessage> messages = new ArrayList<>();
    if (system != null && !system.isEmpty()) {
      messages.add(ChatMessage.system(system));
    }
    messages.add(ChatMessage.user(prompt));
    messages.add(ChatMessage.assistant(output));
    return new SftRow(prompt, output, messages, SftSource.INSTRUCTION, id(messages), null);
  }

  public static SftRow fromMessages(List<ChatMessage> messages) {
    if (messages.isEmpty()) {
      throw new IllegalArgumentException(
          "a messages record needs at least one user and one assistant turn");
    }
    int start = "system".equals(messages.get(0).role()) ? 1 : 0;
    if (messages.size() - start < 2 || (messages.size() - start) % 2 != 0) {
      throw new IllegalArgumentException(
          "a messages record must be [system,] user, assistant[, user, assistant ...]; got "
              + roles(messages));
    }
    for (int i = start; i < messages.size(); i++) {
      String expected = (i - start) % 2 == 0 ? "user" : "assistant";
      if (!expected.equals(messages.get(i).role()) || messages.get(i).content() == null) {
        throw new IllegalArgumentException(
            "a messages record must be [system,] user, assistant[, user, assistant ...]; got "
                + roles(messages));
      }
    }
    ChatMessage lastUser = messages.get(messages.size() - 2);
    ChatMessage last = messages.get(messages.size() - 1);
    return new SftRow(
        lastUser.content(), last.content(), messages, SftSource.INSTRUCTION, id(messages), null);
  }

  /** One record of either shape. */
  public static SftRow fromJson(JsonNode n) {
    if (n.has("messages")) {
      List<ChatMessage> messages = new ArrayList<>();
      for (JsonNode m : n.get("messages")) {
        messages.add(new ChatMessage(m.path("role").asText(null), m.path("content").asText(null)));
      }
      return fromMessages(messages);
    }
    if (n.has("instruction")) {
      return fromAlpaca(
          n.get("instruction").asText(),
          n.path("input").asText(""),
          n.path("output").asText(null),
          n.path("system").asText(null));
    }
    throw new IllegalArgumentException(
        "neither an alpaca record (instruction/output) nor a messages record");
  }

  /** The records of a JSON array file or a JSONL file; a bad record fails with its position. */
  public static List<SftRow> read(Path file) throws IOException {
    List<SftRow> out = new ArrayList<>();
    String head;
    try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      int c;
      do {
        c = r.read();
      } while (c != -1 && Character.isWhitespace(c));
      head = c == -1 ? "" : String.valueOf((char) c);
    }
    if (head.equals("[")) {
      JsonNode all = Json.MAPPER.readTree(file.toFile());
      for (int i = 0; i < all.size(); i++) {
        out.add(parse(all.get(i), file + "[" + i + "]"));
      }
      return out;
    }
    try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      String line;
      int no = 0;
      while ((line = r.readLine()) != null) {
        no++;
        if (!line.isBlank()) {
          out.add(parse(Json.MAPPER.readTree(line), file + ":" + no));
        }
      }
    }
    return out;
  }

  private static SftRow parse(JsonNode n, String where) throws IOException {
    try {
      return fromJson(n);
    } catch (IllegalArgumentException e) {
      throw new IOException(where + ": " + e.getMessage(), e);
    }
  }

  private static String id(List<ChatMessage> messages) {
    List<String> parts = new ArrayList<>();
    for (ChatMessage m : messages) {
      parts.add(m.role());
      parts.add(m.content());
    }
    return Ids.of(parts.toArray(String[]::new));
  }

  private static List<String> roles(List<ChatMessage> messages) {
    return messages.stream().map(ChatMessage::role).toList();
  }
}
