package dev.editforge.text;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;

/**
 * The shared Jackson mappers: {@link #MAPPER} writes indented (manifests, configs people read),
 * {@link #COMPACT} is Jackson's defaults (one-line JSON: JSONL rows, request bodies, file headers).
 * Thread-safe once configured, as Jackson documents: never reconfigure them; {@code copy()} one
 * where a different configuration is needed.
 */
public final class Json {
  public static final ObjectMapper MAPPER =
      new ObjectMapper()
          .enable(SerializationFeature.INDENT_OUTPUT)
          .disable(SerializationFeature.FAIL_ON_EMPTY_BEANS);
  public static final ObjectMapper COMPACT = new ObjectMapper();

  private Json() {}

  public static String pretty(Object value) {
    try {
      return MAPPER.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("cannot render JSON: " + e.getMessage(), e);
    }
  }

  public static String compact(Object value) {
    try {
      return COMPACT.writeValueAsString(value);
    } catch (JsonProcessingException e) {
      throw new IllegalArgumentException("cannot render JSON: " + e.getMessage(), e);
    }
  }
}
