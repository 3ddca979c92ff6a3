package dev.editforge.cli;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import com.typesafe.config.ConfigValueFactory;
import dev.editforge.config.ConfigLoader;
import dev.editforge.config.ConfigRedactor;
import dev.editforge.config.EditforgeSettings;
import dev.editforge.config.RunSettings;
import dev.editforge.io.RunDir;
import dev.editforge.select.SftSettings;
import dev.editforge.spark.RunRecord;
import dev.editforge.spark.SparkSessions;
import dev.editforge.spark.StageContext;
import dev.editforge.spark.StageRunner;
import java.io.PrintStream;
import java.util.Map;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.SparkConf;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One command invocation: resolves the config (command flags > --set > --conf > env > reference),
 * validates every setting, logs the redacted config at DEBUG, starts Spark, and records the run's
 * manifest under {@code <run-dir>/_runs/}. The console gets one line, the config hash and where the
 * record goes: the full config is in the record, and a 250-line dump before every command buried
 * what the command itself said. Not thread-safe; one per command.
 */
public final class Launch {
  private static final Logger LOG = LoggerFactory.getLogger(Launch.class);

  private final String command;
  private final EditforgeSettings settings;
  private final CommonOptions options;
  private final PrintStream console;
  private StageRunner runner;

  private Launch(
      String command, EditforgeSettings settings, CommonOptions options, PrintStream console) {
    this.command = command;
    this.settings = settings;
    this.options = options;
    this.console = console;
  }

  /**
   * @param flagOverrides settings a command's own flags set (e.g. ingest's --input); they win over
   *     --set
   */
  public static Launch of(
      String command,
      CommonOptions options,
      Map<String, Object> flagOverrides,
      PrintStream console) {
    Config base = ConfigLoader.load(options.conf, options.sets, submitHadoopConf());
    Config flags = ConfigFactory.empty();
    for (Map.Entry<String, Object> e : flagOverrides.entrySet()) {
      flags =
          flags.withValue("editforge." + e.getKey(), ConfigValueFactory.fromAnyRef(e.getValue()));
    }
    if (options.runDir != null) {
      flags = flags.withValue("editforge.run-dir", ConfigValueFactory.fromAnyRef(options.runDir));
    }
    Config effective = flags.withFallback(base);
    EditforgeSettings settings = EditforgeSettings.from(effective);
    // Settings made of a stage's own types are read by that stage; read them here too, so every
    // bad value exits 2 at start rather than after the stages before it have run.
    SftSettings.of(settings);
    RunSettings.of(settings);
    if (LOG.isDebugEnabled()) {
      LOG.debug(
          "editforge {} {} with config:\n{}",
          command,
          settings.codeVersion(),
          ConfigRedactor.render(effective));
    }
    return new Launch(command, settings, options, console);
  }

  public EditforgeSettings settings() {
    return settings;
  }

  /** Starts (or joins) Spark and opens the run directory; idempotent. */
  public StageContext context() {
    return runner().context();
  }

  /** True under {@code --dry-run}: plan and check, start no Spark, write nothing. */
  public boolean dryRun() {
    return options.dryRun;
  }

  /**
   * The runner every stage of this invocation runs on (starts Spark on first use). Under {@code
   * --dry-run} no Spark is started (a session already running in this JVM is reused) and the run
   * directory is opened with the Hadoop settings spark-submit and the config give.
   */
  public StageRunner runner() {
    if (runner == null && dryRun()) {
      SparkSession spark = runningSession();
      RunDir run =
          new RunDir(
              settings.runDir(),
              spark != null ? spark.sparkContext().hadoopConfiguration() : hadoopConf());
      RunRecord record = new RunRecord(command, settings);
      runner =
          new StageRunner(
              new StageContext(settings, spark, run, options.force, console, options.breakLock),
              record);
      console.println(
          command
              + ": dry run, config "
              + record.configHash()
              + " ("
              + settings.codeVersion()
              + "); nothing is run or written in "
              + run.root());
    }
    if (runner == null) {
      SparkSession spark = SparkSessions.getOrCreate(settings.spark(), console);
      RunDir run = new RunDir(settings.runDir(), spark.sparkContext().hadoopConfiguration());
      RunRecord record = new RunRecord(command, settings);
      runner =
          new StageRunner(
              new StageContext(settings, spark, run, options.force, console, options.breakLock),
              record);
      console.println(
          command
              + ": config "
              + record.configHash()
              + " ("
              + settings.codeVersion()
              + "); full config in "
              + record.path(run));
    }
    return runner;
  }

  private static SparkSession runningSession() {
    SparkSession s =
        SparkSession.getActiveSession().isDefined()
            ? SparkSession.getActiveSession().get()
            : SparkSession.getDefaultSession().isDefined()
                ? SparkSession.getDefaultSession().get()
                : null;
    return s != null && !s.sparkContext().isStopped() ? s : null;
  }

  /**
   * The Hadoop configuration a session would have, without one: the defaults plus every {@code
   * spark.hadoop.*} setting from spark-submit (system properties) and editforge.spark.conf: what a
   * command that reads a file without Spark (evaluate-judge's SEAL run) reads it with.
   */
  Configuration hadoopConf() {
    return hadoopConf(settings.spark().conf());
  }

  /**
   * What reads the {@code --conf} overlay itself, before there are settings: the defaults
   * (core-site.xml from HADOOP_CONF_DIR, which spark-submit puts on the classpath) plus
   * spark-submit's {@code spark.hadoop.*} settings.
   */
  static Configuration submitHadoopConf() {
    return hadoopConf(Map.of());
  }

  private static Configuration hadoopConf(Map<String, String> editforgeSparkConf) {
    Configuration conf = new Configuration();
    Map<String, String> sparkConf = new java.util.TreeMap<>(editforgeSparkConf);
    for (scala.Tuple2<String, String> kv : new SparkConf().getAll()) {
      sparkConf.put(kv._1(), kv._2());
    }
    for (Map.Entry<String, String> e : sparkConf.entrySet()) {
      if (e.getKey().startsWith("spark.hadoop.")) {
        conf.set(e.getKey().substring("spark.hadoop.".length()), e.getValue());
      }
    }
    return conf;
  }

  /**
   * Writes the run record: {@code <run-dir>/_runs/<time>-<command>.json}; a dry run writes none.
   */
  public void finish(int exitCode) {
    if (runner == null || dryRun()) {
      return;
    }
    StageContext ctx = runner.context();
    runner.record().write(ctx.runDir(), ctx.spark().sparkContext().master(), exitCode);
  }
}
