package dev.editforge.ingest;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.List;

/** Required-field checks over a parsed JSON record, each failing with a precise reject reason. */
final class Fields {
  /** Marks text that could not be decoded as UTF-8 (a noncharacter, never valid in interchange). */
  static final char INVALID_UTF8_MARK = '\uFDD0';

  private Fields() {}

  static JsonNode object(JsonNode node, String what) throws Rejected {
    if (node == null || node.isNull() || node.isMissingNode()) {
      throw new Rejected(RejectReason.MISSING_FIELD, what + " is missing");
    }
    if (!node.isObject()) {
      throw new Rejected(
          RejectReason.WRONG_TYPE, what + " must be a JSON object, got " + type(node));
    }
    return node;
  }

  static String text(JsonNode parent, String field, String where) throws Rejected {
    JsonNode v = parent.get(field);
    String name = where.isEmpty() ? field : where + "." + field;
    if (v == null || v.isNull()) {
      throw new Rejected(RejectReason.MISSING_FIELD, "required field " + name + " is missing");
    }
    if (!v.isTextual()) {
      throw new Rejected(
          RejectReason.WRONG_TYPE, "field " + name + " must be a string, got " + type(v));
    }
    String s = v.asText();
    checkUtf8(s, name);
    if (s.isBlank()) {
      throw new Rejected(RejectReason.EMPTY_FIELD, "required field " + name + " is empty");
    }
    return s;
  }

  /** A string field that may be absent, null or empty (returns "" then). */
  static String optionalText(JsonNode parent, String field, String where) throws Rejected {
    JsonNode v = parent.get(field);
    String name = where.isEmpty() ? field : where + "." + field;
    if (v == null || v.isNull()) {
      return "";
    }
    if (!v.isTextual()) {
      throw new Rejected(
          RejectReason.WRONG_TYPE, "field " + name + " must be a string, got " + type(v));
    }
    checkUtf8(v.asText(), name);
    return v.asText();
  }

  /** An id: a non-empty string or an integer, returned as a string. */
  static String id(JsonNode parent, String field) throws Rejected {
    JsonNode v = parent.get(field);
    if (v == null || v.isNull()) {
      throw new Rejected(RejectReason.MISSING_FIELD, "required field " + field + " is missing");
    }
    if (v.isIntegralNumber()) {
      return v.asText();
    }
    if (!v.isTextual()) {
      throw new Rejected(
          RejectReason.WRONG_TYPE,
          "field " + field + " must be a string or an integer, got " + type(v));
    }
    checkUtf8(v.asText(), field);
    if (v.asText().isBlank()) {
      throw new Rejected(RejectReason.EMPTY_FIELD, "required field " + field + " is empty");
    }
    return v.asText();
  }

  static JsonNode array(JsonNode parent, String field, String where, boolean nonEmpty)
      throws Rejected {
    JsonNode v = parent.get(field);
    String name = where.isEmpty() ? field : where + "." + field;
    if (v == null || v.isNull()) {
      throw new Rejected(RejectReason.MISSING_FIELD, "required field " + name + " is missing");
    }
    if (!v.isArray()) {
      throw new Rejected(
          RejectReason.WRONG_TYPE, "field " + name + " must be a list, got " + type(v));
    }
    if (nonEmpty && v.isEmpty()) {
      throw new Rejected(RejectReason.EMPTY_FIELD, "required field " + name + " is an empty list");
    }
    return v;
  }

  static List<String> texts(JsonNode array, String name) throws Rejected {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < array.size(); i++) {
      JsonNode v = array.get(i);
      if (!v.isTextual()) {
        throw new Rejected(
            RejectReason.WRONG_TYPE, name + "[" + i + "] must be a string, got " + type(v));
      }
      checkUtf8(v.asText(), name + "[" + i + "]");
      if (v.asText().isBlank()) {
        throw new Rejected(RejectReason.EMPTY_FIELD, name + "[" + i + "] is empty");
      }
      out.add(v.asText());
    }
    return out;
  }

  static void checkUtf8(String s, String name) throws Rejected {
    if (s.indexOf(INVALID_UTF8_MARK) >= 0) {
      throw new Rejected(
          RejectReason.INVALID_UTF8, "field " + name + " contains bytes that are not valid UTF-8");
    }
  }

  static String type(JsonNode v) {
    if (v.isTextual()) {
      return "a string";
    }
    if (v.isNumber()) {
      return "a number";
    }
    if (v.isBoolean()) {
      return "a boolean";
    }
    if (v.isArray()) {
      return "a list";
    }
    if (v.isObject()) {
      return "an object";
    }
    return "null";
  }
}
