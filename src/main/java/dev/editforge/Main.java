package dev.editforge;

import dev.editforge.cli.BenchCommand;
import dev.editforge.cli.ContinualCommand;
import dev.editforge.cli.DemoCommand;
import dev.editforge.cli.EmbedCommand;
import dev.editforge.cli.EvaluateCommand;
import dev.editforge.cli.EvaluateJudgeCommand;
import dev.editforge.cli.EvaluateRetrievalCommand;
import dev.editforge.cli.ExportCommand;
import dev.editforge.cli.FinetuneCommand;
import dev.editforge.cli.GenerateCommand;
import dev.editforge.cli.GenerateTextCommand;
import dev.editforge.cli.IndexCommand;
import dev.editforge.cli.IngestCommand;
import dev.editforge.cli.IterateCommand;
import dev.editforge.cli.ReportCommand;
import dev.editforge.cli.RetrieveCommand;
import dev.editforge.cli.RunCommand;
import dev.editforge.cli.ScoreCommand;
import dev.editforge.cli.SelectCommand;
import dev.editforge.cli.SelfRagAnswerCommand;
import dev.editforge.cli.StageCommand;
import dev.editforge.config.BuildInfo;
import dev.editforge.config.ConfigRedactor;
import dev.editforge.config.SettingsException;
import dev.editforge.ingest.InputException;
import dev.editforge.io.TableConflictException;
import dev.editforge.io.UnusableInputException;
import dev.editforge.llm.ModelLoadException;
import dev.editforge.llm.hub.HubException;
import dev.editforge.lucene.IndexVerificationException;
import dev.editforge.spark.ExitCodes;
import java.io.PrintStream;
import java.io.PrintWriter;
import org.apache.spark.sql.SparkSession;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.HelpCommand;

/**
 * The CLI: {@code editforge <command> [--conf F] [--set k=v]... [--run-dir D]}. Exit codes: 0 ok, 1
 * unexpected failure, 2 usage / bad setting / unusable input, 3 quality threshold failed.
 */
@Command(
    name = "editforge",
    // INHERIT: every command takes -h/--help and -V/--version, not only the top level.
    scope = CommandLine.ScopeType.INHERIT,
    mixinStandardHelpOptions = true,
    versionProvider = Main.Version.class,
    description =
        "Builds scored SFT datasets from raw knowledge on Spark (SEAL self-edits, Self-RAG retrieval) and fine-tunes on them.",
    footer = {"%nExamples:", "  editforge demo", "  editforge help ingest"},
    subcommands = {
      HelpCommand.class,
      DemoCommand.class,
      RunCommand.class,
      IngestCommand.class,
      EmbedCommand.class,
      IndexCommand.class,
      RetrieveCommand.class,
      EvaluateRetrievalCommand.class,
      GenerateCommand.class,
      ScoreCommand.class,
      SelectCommand.class,
      FinetuneCommand.class,
      EvaluateCommand.class,
      ContinualCommand.class,
      IterateCommand.class,
      ExportCommand.class,
      ReportCommand.class,
      EvaluateJudgeCommand.class,
      BenchCommand.class,
      GenerateTextCommand.class,
      SelfRagAnswerCommand.class,
    })
public final class Main implements Runnable {
  private static final Logger LOG = LoggerFactory.getLogger(Main.class);

  @CommandLine.Spec CommandLine.Model.CommandSpec spec;

  @Override
  public void run() {
    throw new CommandLine.ParameterException(spec.commandLine(), "a command is required");
  }

  public static void main(String[] args) {
    int code = execute(System.out, System.err, args);
    SparkSession.getDefaultSession()
        .foreach(
            s -> {
              s.stop();
              return null;
            });
    System.exit(code);
  }

  /** Runs one command in this JVM (tests call it directly; a running SparkSession is reused). */
  public static int execute(PrintStream out, PrintStream err, String... args) {
    CommandLine cl = commandLine(out);
    cl.setOut(new PrintWriter(out, true));
    cl.setErr(new PrintWriter(err, true));
    cl.setExecutionExceptionHandler(
        (e, commandLine, parseResult) -> {
          int code = exitCode(e);
          // A message may quote a setting or a server's reply; neither may show a credential.
          commandLine
              .getErr()
              .println(
                  "editforge "
                      + commandLine.getCommandName()
                      + ": "
                      + ConfigRedactor.scrub(message(e), null));
          if (code == ExitCodes.FAILURE) {
            LOG.error("command failed", e);
          }
          return code;
        });
    return cl.execute(args);
  }

  /** The command tree, with commands writing to {@code out}; its model documents every command. */
  public static CommandLine commandLine(PrintStream out) {
    CommandLine cl = new CommandLine(new Main(), new ConsoleFactory(out));
    // picocli's own help command has no example of its own.
    cl.getSubcommands()
        .get("help")
        .getCommandSpec()
        .usageMessage()
        .footer("%nExample:", "  editforge help generate");
    return cl;
  }

  /**
   * Errors the user fixes (a setting, an input, a model reference): exit 2, one message, no stack.
   */
  static boolean isUsageError(Throwable t) {
    return t instanceof SettingsException
        || t instanceof InputException
        || t instanceof UnusableInputException
        || t instanceof TableConflictException
        || t instanceof HubException
        || t instanceof ModelLoadException
        || t instanceof IndexVerificationException;
  }

  static int exitCode(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (isUsageError(t)) {
        return ExitCodes.USAGE;
      }
    }
    return ExitCodes.FAILURE;
  }

  static String message(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (isUsageError(t)) {
        return t.getMessage();
      }
    }
    return e.getClass().getSimpleName() + ": " + e.getMessage() + " (details in the log)";
  }

  /** Hands the console stream to commands, so in-process runs (tests) capture their output. */
  static final class ConsoleFactory implements CommandLine.IFactory {
    private final PrintStream out;
    private final CommandLine.IFactory fallback = CommandLine.defaultFactory();

    ConsoleFactory(PrintStream out) {
      this.out = out;
    }

    @Override
    public <K> K create(Class<K> cls) throws Exception {
      K k = fallback.create(cls);
      if (k instanceof StageCommand c) {
        c.useConsole(out);
      }
      return k;
    }
  }

  static final class Version implements CommandLine.IVersionProvider {
    @Override
    public String[] getVersion() {
      // The commit says where the code came from; the version (with its code digest) is what
      // fingerprints compare, so both are shown.
      String dirty = "true".equals(BuildInfo.gitDirty()) ? " (dirty)" : "";
      return new String[] {
        "editforge " + BuildInfo.version(), "git commit " + BuildInfo.gitCommit() + dirty
      };
    }
  }
}
