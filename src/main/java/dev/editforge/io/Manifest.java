package dev.editforge.io;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.editforge.text.Json;
import java.io.IOException;
import java.time.Instant;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A table's {@code _manifest.json}: which stage wrote it, whether it completed, the counts ({@code
 * input = accepted + rejected + duplicates}), the config hash and code version, timings, and the
 * fingerprint that decides whether a rerun may skip the stage. Stage-specific fields go into {@link
 * #put}. Not thread-safe.
 */
public final class Manifest {
  public static final String COMPLETED = "completed";
  public static final String SKIPPED = "skipped";
  public static final String FAILED = "failed";

  private final Map<String, Object> fields;

  private Manifest(Map<String, Object> fields) {
    this.fields = fields;
  }

  public static Manifest start(
      String stage, String table, String configHash, String codeVersion, String fingerprint) {
    Map<String, Object> f = new LinkedHashMap<>();
    f.put("stage", stage);
    f.put("table", table);
    f.put("status", "running");
    f.put("counts", new LinkedHashMap<String, Long>());
    f.put("config_hash", configHash);
    f.put("code_version", codeVersion);
    f.put("started_at", Instant.now().toString());
    f.put("ended_at", null);
    f.put("fingerprint", fingerprint);
    return new Manifest(f);
  }

  public static Manifest parse(String json) throws IOException {
    return new Manifest(
        Json.MAPPER.readValue(json, new TypeReference<LinkedHashMap<String, Object>>() {}));
  }

  public String stage() {
    return (String) fields.get("stage");
  }

  public String table() {
    return (String) fields.get("table");
  }

  public String status() {
    return (String) fields.get("status");
  }

  public String fingerprint() {
    return (String) fields.get("fingerprint");
  }

  public String endedAt() {
    return (String) fields.get("ended_at");
  }

  @SuppressWarnings("unchecked")
  public Map<String, Number> counts() {
    return (Map<String, Number>) fields.get("counts");
  }

  public long count(String key) {
    Number n = counts().get(key);
    return n == null ? 0L : n.longValue();
  }

  public Manifest count(String key, long value) {
    counts().put(key, value);
    return this;
  }

  public Manifest put(String key, Object value) {
    fields.put(key, value);
    return this;
  }

  public Object get(String key) {
    return fields.get(key);
  }

  public Manifest finish(String status) {
    fields.put("status", status);
    fields.put("ended_at", Instant.now().toString());
    return this;
  }

  public boolean isCompleted() {
    return COMPLETED.equals(status());
  }

  public String toJson() {
    return Json.pretty(fields);
  }
}
