package dev.editforge.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import dev.editforge.config.ConfigLoader;
import dev.editforge.config.ConfigRedactor;
import dev.editforge.config.EditforgeSettings;
import dev.editforge.io.Json;
import dev.editforge.io.Manifest;
import dev.editforge.io.RunDir;
import dev.editforge.spark.SparkSessions;
import dev.editforge.spark.StageContext;
import dev.editforge.spark.StageOutcome;
import java.io.PrintStream;
import java.time.Instant;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One command invocation: resolves the config (command flags > --set > --conf > env > reference),
 * validates every setting, logs the redacted config, starts Spark, and records the run's manifest
 * under {@code <run-dir>/_runs/}. Not thread-safe; one per command.
 */
public final class Launch {
  private static final Logger LOG = LoggerFactory.getLogger(Launch.class);

  private final String command;
  private final EditforgeSettings settings;
  private final CommonOptions options;
  private final PrintStream console;
  private final String startedAt = Instant.now().toString();
  private final List<Map<String, Object>> stages = new ArrayList<>();
  private StageContext context;

  private Launch(String command, EditforgeSettings settings, CommonOptions options, PrintStream console) {
    this.command = command;
    this.settings = settings;
    this.options = options;
    this.console = console;
  }

  /**
   * @param flagOverrides settings a command's own flags set (e.g. ingest's --input); they win over --set
   */
  public static Launch of(String command, CommonOptions options, Map<String, Object> flagOverrides,
      PrintStream console) {
    Config base = ConfigLoader.load(options.conf, options.sets);
    Config flags = ConfigFactory.empty();
    for (Map.Entry<String, Object> e : flagOverrides.entrySet()) {
      flags = flags.withValue("editforge." + e.getKey(), ConfigValueFactory.fromAnyRef(e.getValue()));
    }
    if (options.runDir != null) {
      flags = flags.withValue("editforge.run-dir", ConfigValueFactory.fromAnyRef(options.runDir));
    }
    Config effective = flags.withFallback(base);
    EditforgeSettings settings = EditforgeSettings.from(effective);
    LOG.info("editforge {} {} with config:\n{}", command, settings.codeVersion(), ConfigRedactor.render(effective));
    return new Launch(command, settings, options, console);
  }

  public EditforgeSettings settings() {
    return settings;
  }

  /** Starts (or joins) Spark and opens the run directory; idempotent. */
  public StageContext context() {
    if (context == null) {
      SparkSession spark = SparkSessions.getOrCreate(settings.spark(), console);
      RunDir run = new RunDir(settings.runDir(), spark.sparkContext().hadoopConfiguration());
      context = new StageContext(settings, spark, run, options.force, console);
    }
    return context;
  }

  public void record(StageOutcome outcome) {
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
    stages.add(s);
  }

  /** Writes {@code <run-dir>/_runs/<time>-<command>.json}: the redacted config and what each stage did. */
  public void finish(int exitCode) {
    if (context == null) {
      return;
    }
    Map<String, Object> m = new LinkedHashMap<>();
    m.put("command", command);
    m.put("code_version", settings.codeVersion());
    m.put("started_at", startedAt);
    m.put("ended_at", Instant.now().toString());
    m.put("exit_code", exitCode);
    m.put("spark_master", context.spark().sparkContext().master());
    m.put("stages", stages);
    m.put("config", ConfigRedactor.flat(settings.raw()));
    String name = startedAt.replace(":", "").replace("-", "") + "-" + command + ".json";
    context.runDir().writeString(new Path(context.runDir().path("_runs"), name), Json.pretty(m));
  }
}
