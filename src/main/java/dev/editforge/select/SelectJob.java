package dev.editforge.select;

import com.typesafe.config.Config;
import dev.editforge.io.Fingerprints;
import dev.editforge.io.Manifest;
import dev.editforge.io.RunDir;
import dev.editforge.io.SftRow;
import dev.editforge.io.SftTable;
import dev.editforge.io.Tables;
import dev.editforge.spark.PipelineStage;
import dev.editforge.spark.StageContext;
import dev.editforge.spark.StageOutput;
import dev.editforge.spark.StagePlan;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.apache.hadoop.fs.Path;

/**
 * {@code editforge select}: the {@code sft} table. Self-edit rows are the best k edits of each
 * article ({@link BestKSelector}, run per article on the executors) from {@code ttt_scores} +
 * {@code self_edits}, or from a SEAL ranking file ({@code editforge.select.seal-run}); reasoning
 * traces ({@link ReasoningRows}), identity rows ({@link IdentityData}) and instruction rows join as
 * configured ({@link SelectSources}), mixed by {@link SftMixer}. The table is one Parquet file in
 * dataset order; the configured {@link SftExport} files go to {@code <run-dir>/exports/} once it is
 * committed, and are restored from it when a skipped run finds one missing. The manifest counts are
 * {@link SelectCounts}'.
 */
public final class SelectJob implements PipelineStage {
  public static final String STAGE = "select";
  public static final String EXPORTS = "exports";

  /**
   * Selects from a SEAL run file ({@code editforge.select.seal-run}) or the run's {@code
   * ttt_scores} + {@code self_edits}; an absent run table is exit 2 on its own and passed over in a
   * pipeline (the runner decides).
   */
  public SelectJob() {}

  @Override
  public String name() {
    return STAGE;
  }

  @Override
  public StagePlan plan(StageContext ctx) {
    SftSettings sft = SftSettings.of(ctx.settings());
    SelectInputs in = SelectInputs.resolve(ctx);
    Config raw = ctx.settings().raw();
    String configHash =
        Fingerprints.configHash(
            raw.withOnlyPath("editforge.select")
                .withFallback(raw.withOnlyPath("editforge.generate.reasoning")));
    // Self-RAG generator rows join whenever generator-data has written them.
    boolean selfRag =
        ctx.runDir().manifest(Tables.SELFRAG_SFT).map(Manifest::isCompleted).orElse(false);
    List<String> inputs = new ArrayList<>(in.fingerprints());
    if (selfRag) {
      inputs.add(Fingerprints.ofTable(ctx.runDir(), Tables.SELFRAG_SFT));
    }
    return StagePlan.of(
        StageOutput.of(Tables.SFT, configHash, inputs, out -> select(out, in, sft, selfRag))
            .whenReused(m -> restoreExports(ctx, sft.export())));
  }

  private static void select(
      StageOutput.Staged out, SelectInputs in, SftSettings sft, boolean selfRag) {
    StageContext ctx = out.context();
    RunDir run = ctx.runDir();
    if (!in.reasoning() && sft.reasoning().include()) {
      ctx.say("select: no reasoning table in " + run.root() + ": no reasoning rows");
    }
    ctx.spark().sparkContext().setJobDescription("select sft");
    Map<String, Long> detail = new LinkedHashMap<>();
    if (in.sealRun() != null) {
      out.manifest().put("seal_run", in.sealRun());
    }
    List<SftRow> selfEdits =
        in.sealRun() != null
            ? SelectSources.sealRunEdits(
                ctx.settings().select(), in.sealRun(), ctx.hadoopConf().get(), detail)
            : SelectSources.tableEdits(ctx, detail);
    List<SftRow> reasoning = in.reasoning() ? SelectSources.reasoning(ctx, detail) : List.of();
    List<SftRow> identity = IdentityData.sample(sft.identity());
    SelectSources.Instructions instructions =
        in.instructions() ? SelectSources.instructions(ctx) : SelectSources.Instructions.NONE;

    List<SftRow> selfRagRows = new ArrayList<>();
    if (selfRag) {
      for (org.apache.spark.sql.Row r :
          ctx.spark().read().parquet(run.tableUri(Tables.SELFRAG_SFT)).collectAsList()) {
        selfRagRows.add(SftTable.fromRow(r));
      }
      detail.put("selfrag_rows", (long) selfRagRows.size());
    }
    SftMixer.Mix mix =
        SftMixer.mix(selfEdits, reasoning, identity, instructions.rows(), selfRagRows, sft.mix());
    SelectCounts.fill(out.manifest(), detail, identity.size(), instructions, mix);
    out.manifest().put("mix", mix.summary());
    SftTable.write(ctx.spark(), mix.rows(), out.path());
    out.manifest()
        .put("exports", exportPaths(run, sft.export()).stream().map(Path::toString).toList());
    out.afterCommit(
        () -> SftFiles.write(mix.rows(), run.path(EXPORTS), sft.export(), run.fs().getConf()));
    out.summary(summary(out.manifest(), run));
  }

  static List<Path> exportPaths(RunDir run, SftExport.Settings export) {
    List<Path> out = new ArrayList<>();
    for (String name : SftFiles.fileNames(export)) {
      out.add(new Path(run.path(EXPORTS), name));
    }
    return out;
  }

  /** On a skip: rewrites the export files from the table when one of them is missing. */
  private static void restoreExports(StageContext ctx, SftExport.Settings export) {
    RunDir run = ctx.runDir();
    if (exportPaths(run, export).stream().allMatch(run::exists)) {
      return;
    }
    List<SftRow> rows = SftTable.read(ctx.spark(), run);
    for (Path p : SftFiles.write(rows, run.path(EXPORTS), export, run.fs().getConf())) {
      ctx.say("select: rewrote export " + p);
    }
  }

  /** The console line; printed once the table is committed, so it says completed. */
  static String summary(Manifest m, RunDir run) {
    return String.format(
        Locale.ROOT,
        "select: sft completed: %,d rows (self_edit %,d, reasoning %,d, self_cognition %,d, instruction %,d) from %,d"
            + " input rows (%,d self-edits of %,d articles); %,d rejected, %,d duplicates -> %s; exports in %s",
        m.count("output"),
        m.count("self_edit"),
        m.count("reasoning"),
        m.count("self_cognition"),
        m.count("instruction"),
        m.count("input"),
        m.count("self_edits"),
        m.count("articles"),
        m.count("rejected"),
        m.count("duplicates"),
        run.table(Tables.SFT),
        run.path(EXPORTS));
  }
}
