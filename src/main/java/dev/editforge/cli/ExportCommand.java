package dev.editforge.cli;

import dev.editforge.io.RunDir;
import dev.editforge.io.SftRow;
import dev.editforge.io.SftTable;
import dev.editforge.io.TableExport;
import dev.editforge.io.Tables;
import dev.editforge.select.SftExport;
import dev.editforge.select.SftFiles;
import dev.editforge.select.SftSettings;
import dev.editforge.spark.ExitCodes;
import java.util.List;
import java.util.Locale;
import org.apache.hadoop.fs.Path;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/**
 * {@code editforge export}: a table of the run as files for people and trainers. Every table
 * exports as JSON lines of all its columns; the {@code sft} table also as the trainer formats of
 * {@link SftExport} (TRL prompt/completion JSONL, LLaMA-Factory alpaca + dataset_info.json, chat
 * messages JSONL), named after {@code editforge.select.export.name}.
 */
@Command(
    name = "export",
    description = {
      "Write a table of the run as files.",
      "<out>/<table>.jsonl (every column) for any table; for --table sft, --format jsonl writes TRL prompt/completion lines (<name>.jsonl), alpaca writes <name>_alpaca.json + dataset_info.json (LLaMA-Factory), messages writes <name>_messages.jsonl (<name> = editforge.select.export.name, default sft)."
    },
    footer = {
      "%nExample:",
      "  editforge export --run-dir runs/r1 --table sft --format alpaca \\",
      "      --out runs/r1/llamafactory"
    })
public final class ExportCommand extends StageCommand {
  static final List<String> SFT_FORMATS = List.of("jsonl", "alpaca", "messages");

  @Option(
      names = "--table",
      required = true,
      paramLabel = "TABLE",
      description = "Table name, e.g. articles, passages, sft")
  String table;

  @Option(
      names = "--format",
      defaultValue = "jsonl",
      paramLabel = "FORMAT",
      description = "jsonl (default; any table); for sft also alpaca, messages")
  String format;

  @Option(
      names = "--out",
      required = true,
      paramLabel = "DIR",
      description = "Output directory (local or Hadoop URI)")
  String out;

  @Override
  protected int execute(Launch launch) {
    if (!Tables.names().contains(table)) {
      console()
          .println(
              "export: unknown table " + table + "; tables: " + String.join(", ", Tables.names()));
      return ExitCodes.USAGE;
    }
    List<String> formats = table.equals(Tables.SFT) ? SFT_FORMATS : List.of("jsonl");
    if (!formats.contains(format)) {
      console()
          .println(
              "export: unknown format "
                  + format
                  + " for table "
                  + table
                  + "; formats: "
                  + String.join(", ", formats));
      return ExitCodes.USAGE;
    }
    var ctx = launch.context();
    Path dir = RunDir.qualify(out);
    if (table.equals(Tables.SFT)) {
      List<SftRow> rows = SftTable.read(ctx.spark(), ctx.runDir());
      SftExport.Settings settings =
          new SftExport.Settings(
              List.of(SftExport.Format.fromWire(format)),
              SftSettings.of(launch.settings()).export().name());
      List<Path> files =
          SftFiles.write(rows, dir, settings, ctx.spark().sparkContext().hadoopConfiguration());
      for (Path f : files) {
        console()
            .println(
                String.format(
                    Locale.ROOT,
                    "export: %,d rows of %s as %s -> %s",
                    rows.size(),
                    table,
                    format,
                    f));
      }
      return ExitCodes.OK;
    }
    Path file = new Path(dir, table + ".jsonl");
    long n =
        TableExport.writeJsonl(
            TableExport.read(ctx.spark(), ctx.runDir(), table),
            file,
            ctx.spark().sparkContext().hadoopConfiguration());
    console().println(String.format(Locale.ROOT, "export: %,d rows of %s -> %s", n, table, file));
    return ExitCodes.OK;
  }
}
