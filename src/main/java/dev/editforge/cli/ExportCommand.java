package dev.editforge.cli;

import dev.editforge.io.RunDir;
import dev.editforge.io.TableExport;
import dev.editforge.io.Tables;
import java.util.Locale;
import org.apache.hadoop.fs.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(name = "export", description = "Write a table of the run as JSON lines (<out>/<table>.jsonl)")
public final class ExportCommand extends StageCommand {
  @Option(names = "--table", required = true, paramLabel = "TABLE", description = "Table name, e.g. articles, passages, sft")
  String table;

  @Option(names = "--format", defaultValue = "jsonl", paramLabel = "FORMAT", description = "jsonl (default)")
  String format;

  @Option(names = "--out", required = true, paramLabel = "DIR", description = "Output directory (local or Hadoop URI)")
  String out;

  @Override
  protected int execute(Launch launch) {
    if (!Tables.names().contains(table)) {
      console().println("export: unknown table " + table + "; tables: " + String.join(", ", Tables.names()));
      return ExitCodes.USAGE;
    }
    if (!format.equals("jsonl")) {
      console().println("export: unknown format " + format + " for table " + table + "; formats: jsonl");
      return ExitCodes.USAGE;
    }
    var ctx = launch.context();
    Path dir = RunDir.qualify(out);
    Path file = new Path(dir, table + ".jsonl");
    long n = TableExport.writeJsonl(TableExport.read(ctx.spark(), ctx.runDir(), table), file,
        ctx.spark().sparkContext().hadoopConfiguration());
    console().println(String.format(Locale.ROOT, "export: %,d rows of %s -> %s", n, table, file));
    return ExitCodes.OK;
  }
}
