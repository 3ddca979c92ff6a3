package dev.editforge.spark;

import dev.editforge.config.ConfigRedactor;
import dev.editforge.config.EditforgeSettings;
import dev.editforge.io.Ids;
import dev.editforge.io.Manifest;
import dev.editforge.io.RunDir;
import dev.editforge.text.Json;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;

/**
 * {@code <run-dir>/_runs/<time>-<command>.json}: one record per command invocation with the
 * redacted config, the code version and what each stage did. Not thread-safe; one per command.
 */
public final class RunRecord {
  private final String command;
  private final EditforgeSettings settings;
  private final String startedAt = Instant.now().toString();
  private final List<Map<String, Object>> stages = new ArrayList<>();
  private final Map<String, Object> config;
  private final Map<String, List<String>> leftovers = new LinkedHashMap<>();

  public RunRecord(String command, EditforgeSettings settings) {
    this.command = command;
    this.settings = settings;
    this.config = ConfigRedactor.flat(settings.raw());
  }

  /**
   * Identifies the run's settings: a hash of the redacted config, so rotating a credential does not
   * make two otherwise equal runs look different.
   */
  public String configHash() {
    return Ids.of(Json.compact(config));
  }

  /** Where {@link #write} puts this record. */
  public Path path(RunDir run) {
    String name = startedAt.replace(":", "").replace("-", "") + "-" + command + ".json";
    return new Path(run.path("_runs"), name);
  }

  public String command() {
    return command;
  }

  /**
   * Notes the staging and trash paths that killed writers of {@code table} left and {@code stage}
   * removed; they appear in that stage's entry as {@code leftovers_removed}.
   */
  public void removedLeftovers(String stage, String table, List<String> paths) {
    leftovers.computeIfAbsent(stage, s -> new ArrayList<>()).addAll(paths);
  }

  /** What each stage did so far, as the record will hold it. */
  public List<Map<String, Object>> stages() {
    return Collections.unmodifiableList(stages);
  }

  public void add(StageOutcome outcome) {
    Map<String, Object> s = new LinkedHashMap<>();
    s.put("stage", outcome.stage());
    s.put("exit_code", outcome.exitCode());
    if (outcome.message() != null) {
      s.put("message", outcome.message());
    }
    List<Map<String, Object>> tables = new ArrayList<>();
    for (Manifest m : outcome.manifests()) {
      Map<String, Object> t = new LinkedHashMap<>();
      t.put("table", m.table());
      t.put("status", m.status());
      t.put("counts", m.counts());
      tables.add(t);
    }
    s.put("tables", tables);
    List<String> removed = leftovers.remove(outcome.stage());
    if (removed != null) {
      s.put(StageRunner.LEFTOVERS_REMOVED, removed);
    }
    stages.add(s);
  }

  public void write(RunDir run, String master, int exitCode) {
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("command", command);
    m.put("code_version", settings.codeVersion());
    m.put("started_at", startedAt);
    m.put("ended_at", Instant.now().toString());
    m.put("exit_code", exitCode);
    m.put("spark_master", master);
    m.put("stages", stages);
    m.put("config_hash", configHash());
    m.put("config", config);
    run.writeString(path(run), Json.pretty(m));
  }
}
