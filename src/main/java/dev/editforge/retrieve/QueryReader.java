package dev.editforge.retrieve;

import com.fasterxml.jackson.core.JsonLocation;
import com.fasterxml.jackson.core.JsonParser;
import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.core.JsonToken;
import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.editforge.text.Json;
import java.io.BufferedReader;
import java.io.IOException;
import java.io.PushbackReader;
import java.io.Reader;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;

/**
 * Reads retrieval queries from JSON (a top-level array) or JSONL (one object per line), the shapes
 * Self-RAG, PopQA and DPR files come in. Each object needs a non-empty {@code question} (or,
 * failing that, {@code instruction}); {@code id} (string or integer) and {@code answers} (or {@code
 * answer}: a string, a list of strings, or SQuAD's {@code [{"text": ...}]}) are optional. A record
 * that does not fit becomes a {@link Reject} with its line number and the reason; blank lines are
 * skipped. Queries without an id get {@code q-} + the first 16 hex digits of SHA-256 of the
 * question, stable across reruns. Stateless and thread-safe.
 */
public final class QueryReader {
  private static final int MAX_RAW = 2000;

  /**
   * One query.
   *
   * @param answers null when the record gives none (then no {@code hasanswer} is computed)
   * @param source the record as read, written back with {@code ctxs} added
   * @param line 1-based line where the record starts
   */
  public record Query(String id, String text, List<String> answers, ObjectNode source, long line) {}

  /** A record that could not be used. {@code raw} is its text, cut to 2,000 characters. */
  public record Reject(long line, String reason, String raw) {}

  /** Everything read: {@code queries.size() + rejects.size()} records in all. */
  public record Result(List<Query> queries, List<Reject> rejects) {
    public int input() {
      return queries.size() + rejects.size();
    }
  }

  private QueryReader() {}

  /**
   * Reads a file, choosing JSON or JSONL by its first non-blank character ({@code [} means JSON).
   */
  public static Result read(Path file) {
    try (BufferedReader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      return read(r);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read queries from " + file, e);
    }
  }

  public static Result read(Reader reader) throws IOException {
    PushbackReader in = new PushbackReader(reader, 1);
    int c;
    do {
      c = in.read();
    } while (c != -1 && Character.isWhitespace(c) || c == '\uFEFF');
    if (c != -1) {
      in.unread(c);
    }
    return c == '[' ? readJsonArray(in) : readJsonl(new BufferedReader(in));
  }

  public static Result readJsonl(BufferedReader reader) throws IOException {
    List<Query> queries = new ArrayList<>();
    List<Reject> rejects = new ArrayList<>();
    String line;
    long lineNo = 0;
    while ((line = reader.readLine()) != null) {
      lineNo++;
      if (line.isBlank()) {
        continue;
      }
      JsonNode node;
      try {
        node = Json.MAPPER.readTree(line);
      } catch (JsonProcessingException e) {
        rejects.add(new Reject(lineNo, "malformed JSON: " + e.getOriginalMessage(), cut(line)));
        continue;
      }
      accept(node, lineNo, line, queries, rejects);
    }
    return new Result(queries, rejects);
  }

  public static Result readJsonArray(Reader reader) throws IOException {
    List<Query> queries = new ArrayList<>();
    List<Reject> rejects = new ArrayList<>();
    try (JsonParser p = Json.MAPPER.getFactory().createParser(reader)) {
      if (p.nextToken() != JsonToken.START_ARRAY) {
        rejects.add(new Reject(1, "a JSON query file must be an array of objects", ""));
        return new Result(queries, rejects);
      }
      long line = 1;
      try {
        while (true) {
          JsonToken t = p.nextToken();
          if (t == null || t == JsonToken.END_ARRAY) {
            break;
          }
          line = p.currentTokenLocation().getLineNr();
          JsonNode node = p.readValueAsTree();
          accept(node, line, null, queries, rejects);
        }
      } catch (JsonProcessingException e) {
        JsonLocation at = e.getLocation();
        // Past a syntax error a JSON array cannot be resynchronized: say so instead of guessing.
        rejects.add(
            new Reject(
                at != null ? at.getLineNr() : line,
                "malformed JSON: "
                    + e.getOriginalMessage()
                    + " (the rest of the file was not read)",
                ""));
      }
    }
    return new Result(queries, rejects);
  }

  private static void accept(
      JsonNode node, long line, String raw, List<Query> queries, List<Reject> rejects) {
    try {
      queries.add(parse(node, line));
    } catch (IllegalArgumentException e) {
      rejects.add(new Reject(line, e.getMessage(), cut(raw != null ? raw : String.valueOf(node))));
    }
  }

  /** One record as a query; an IllegalArgumentException's message says why it is not one. */
  static Query parse(JsonNode node, long line) {
    if (!(node instanceof ObjectNode obj)) {
      throw new IllegalArgumentException("not a JSON object");
    }
    String text = null;
    for (String field : new String[] {"question", "instruction"}) {
      JsonNode v = obj.get(field);
      if (v != null && !v.isNull()) {
        if (!v.isTextual()) {
          throw new IllegalArgumentException("\"" + field + "\" must be a string");
        }
        text = v.asText();
        break;
      }
    }
    if (text == null) {
      throw new IllegalArgumentException("no \"question\" or \"instruction\" field");
    }
    if (text.isBlank()) {
      throw new IllegalArgumentException("empty question");
    }
    String id;
    JsonNode idNode = obj.get("id");
    if (idNode == null || idNode.isNull()) {
      id = "q-" + sha256Hex(text).substring(0, 16);
    } else if (idNode.isTextual() && !idNode.asText().isBlank()) {
      id = idNode.asText();
    } else if (idNode.isIntegralNumber()) {
      id = idNode.asText();
    } else {
      throw new IllegalArgumentException("\"id\" must be a non-empty string or an integer");
    }
    JsonNode ans = obj.has("answers") ? obj.get("answers") : obj.get("answer");
    List<String> answers = answers(ans);
    return new Query(id, text, answers, obj, line);
  }

  private static List<String> answers(JsonNode ans) {
    if (ans == null || ans.isNull()) {
      return null;
    }
    List<String> out = new ArrayList<>();
    if (ans.isArray()) {
      for (JsonNode a : ans) {
        out.add(answerText(a));
      }
    } else {
      out.add(answerText(ans));
    }
    return out.isEmpty() ? null : List.copyOf(out);
  }

  private static String answerText(JsonNode a) {
    if (a.isTextual() || a.isNumber()) {
      return a.asText();
    }
    if (a.isObject() && a.path("text").isTextual()) {
      return a.get("text").asText();
    }
    throw new IllegalArgumentException(
        "answers must be strings (or SQuAD objects with \"text\"), got " + a);
  }

  private static String cut(String s) {
    return s.length() <= MAX_RAW ? s : s.substring(0, MAX_RAW);
  }

  private static String sha256Hex(String s) {
    try {
      return HexFormat.of()
          .formatHex(
              MessageDigest.getInstance("SHA-256").digest(s.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM ships SHA-256", e);
    }
  }
}
