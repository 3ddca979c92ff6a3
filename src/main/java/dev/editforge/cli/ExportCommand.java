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
 * {@code editforge export}: tables of the run as files for people, notebooks and trainers. Every
 * table exports as JSON lines of all its columns ({@link TableExport}: parts and rejects included);
 * {@code --table all} exports every completed table in one go, so a notebook without pyarrow pays
 * for one JVM start, not one per table. The {@code sft} table also exports as the trainer formats
 * of {@link SftExport} (TRL prompt/completion JSONL, LLaMA-Factory alpaca + dataset_info.json, chat
 * messages JSONL), named after {@code editforge.select.export.name}.
 */
@Command(
    name = "export",
    description = {
      "Write tables of the run as files.",
      "<out>/<table>.jsonl (every column; <table>_rejects.jsonl too when the stage refused records;"
          + " evaluation as evaluation_articles.jsonl and evaluation_questions.jsonl) for any table,"
          + " for several (--table a,b,c), or for every completed table with --table all.",
      "For --table sft, --format jsonl writes TRL prompt/completion lines (<name>.jsonl), alpaca writes"
          + " <name>_alpaca.json + dataset_info.json (LLaMA-Factory), messages writes <name>_messages.jsonl"
          + " (<name> = editforge.select.export.name, default sft)."
    },
    footer = {
      "%nExample:",
      "  editforge export --run-dir runs/r1 --table sft --format alpaca \\",
      "      --out runs/r1/llamafactory"
    })
public final class ExportCommand extends StageCommand {
  static final List<String> SFT_FORMATS = List.of("jsonl", "alpaca", "messages");
  static final String ALL = "all";

  @Option(
      names = "--table",
      required = true,
      paramLabel = "TABLE",
      description =
          "Table name, e.g. articles, sft, evaluation; several separated by commas; all = every"
              + " completed table")
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
    if (table.contains(",")) {
      // several tables in one JVM start (what a notebook without pyarrow asks for)
      List<String> names = List.of(table.split(","));
      for (String name : names) {
        if (!TableExport.names().contains(name)) {
          console()
              .println(
                  "export: unknown table "
                      + name
                      + "; tables: "
                      + String.join(", ", TableExport.names())
                      + ", or all");
          return ExitCodes.USAGE;
        }
      }
      if (!format.equals("jsonl")) {
        console().println("export: several tables export as jsonl only, not " + format);
        return ExitCodes.USAGE;
      }
      var ctx = launch.context();
      for (String name : names) {
        writeTable(
            ctx, name, RunDir.qualify(out), ctx.spark().sparkContext().hadoopConfiguration());
      }
      return ExitCodes.OK;
    }
    if (!table.equals(ALL) && !TableExport.names().contains(table)) {
      console()
          .println(
              "export: unknown table "
                  + table
                  + "; tables: "
                  + String.join(", ", TableExport.names())
                  + ", or all");
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
    var conf = ctx.spark().sparkContext().hadoopConfiguration();
    if (table.equals(ALL)) {
      List<String> present =
          TableExport.names().stream()
              .filter(t -> TableExport.isExportable(ctx.runDir(), t))
              .toList();
      if (present.isEmpty()) {
        console().println("export: no completed table in " + ctx.runDir().root());
        return ExitCodes.USAGE;
      }
      for (String t : present) {
        writeTable(ctx, t, dir, conf);
      }
      return ExitCodes.OK;
    }
    if (table.equals(Tables.SFT)) {
      // the trainer formats; the table's every column comes with --table all
      List<SftRow> rows = SftTable.read(ctx.spark(), ctx.runDir());
      SftExport.Settings configured = SftSettings.of(launch.settings()).export();
      SftExport.Settings settings =
          new SftExport.Settings(
              List.of(SftExport.Format.fromWire(format)),
              configured.name(),
              configured.extraFields());
      for (Path f : SftFiles.write(rows, dir, settings, conf)) {
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
    writeTable(ctx, table, dir, conf);
    return ExitCodes.OK;
  }

  private void writeTable(
      dev.editforge.spark.StageContext ctx,
      String name,
      Path dir,
      org.apache.hadoop.conf.Configuration conf) {
    for (TableExport.File f : TableExport.files(ctx.runDir(), name)) {
      Path file = new Path(dir, f.name());
      long n = TableExport.writeJsonl(f.read(ctx.spark()), file, conf);
      console().println(String.format(Locale.ROOT, "export: %,d rows of %s -> %s", n, name, file));
    }
  }
}
