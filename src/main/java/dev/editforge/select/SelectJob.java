package dev.editforge.select;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.collect_list;
import static org.apache.spark.sql.functions.posexplode;
import static org.apache.spark.sql.functions.struct;

import com.typesafe.config.Config;
import dev.editforge.generate.ReasoningSettings;
import dev.editforge.io.Fingerprints;
import dev.editforge.io.Manifest;
import dev.editforge.io.UnusableInputException;
import dev.editforge.io.RunDir;
import dev.editforge.io.StageTables;
import dev.editforge.io.Tables;
import dev.editforge.llm.ChatMessage;
import dev.editforge.spark.PipelineStage;
import dev.editforge.spark.StageContext;
import dev.editforge.spark.StageOutcome;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.SparkSession;

/**
 * {@code editforge select}: the {@code sft} table. Self-edit rows are the best k edits of each
 * article ({@link BestKSelector}, run per article on the executors) from {@code ttt_scores} +
 * {@code self_edits}, or from a SEAL ranking file ({@code editforge.select.seal-run}); reasoning
 * traces ({@link ReasoningRows}), identity rows ({@link IdentityData}) and instruction rows join
 * as configured, mixed by {@link SftMixer}. The table is one Parquet file in dataset order; the
 * configured {@link SftExport} files go to {@code <run-dir>/exports/}.
 *
 * <p>Manifest counts, every offered row counted once ({@code input = accepted + rejected +
 * duplicates}): {@code input} = self-edits considered + reasoning traces read + identity rows
 * drawn + instruction rows available (only read when the instruction ratio is above 0);
 * {@code accepted} = rows in the table (= {@code output}); {@code duplicates} = edits dropped by
 * {@code drop-duplicates}; {@code rejected} = everything else left out: unscored, blank, below the
 * gain or accuracy floor, beyond k, failed/non-agreeing/low-share traces, malformed instruction
 * records, and instruction rows not drawn at the ratio. The final mix by source is {@code
 * self_edit}, {@code reasoning}, {@code self_cognition}, {@code instruction}, with a count per
 * reason beside them.
 */
public final class SelectJob implements dev.editforge.spark.LegacyStage {
  public static final String STAGE = "select";
  public static final String EXPORTS = "exports";

  @Override
  public String name() {
    return STAGE;
  }

  @Override
  public java.util.List<String> requires() {
    return java.util.List.of("ttt_scores", "self_edits");
  }

  @Override
  public StageOutcome run(StageContext ctx) {
    SftSettings sft = ctx.settings().sft();
    RunDir run = ctx.runDir();
    List<String> inputs = new ArrayList<>();
    java.nio.file.Path sealRun = null;
    if (sft.sealRun() != null) {
      sealRun = java.nio.file.Path.of(sft.sealRun()).toAbsolutePath();
      if (!Files.isRegularFile(sealRun)) {
        throw new UnusableInputException("SEAL run file " + sealRun + " (editforge.select.seal-run) does not exist or is not a file");
      }
      inputs.add("seal-run=" + Fingerprints.ofFile(localFs(ctx), new Path(sealRun.toUri())));
    } else {
      require(run, Tables.TTT_SCORES, "editforge score");
      require(run, Tables.SELF_EDITS, "editforge generate");
      inputs.add(Fingerprints.ofTable(run, Tables.TTT_SCORES));
      inputs.add(Fingerprints.ofTable(run, Tables.SELF_EDITS));
    }
    boolean reasoning = sft.reasoning().include() && run.manifest(Tables.REASONING).isPresent();
    if (reasoning) {
      require(run, Tables.REASONING, "editforge generate --what reasoning");
      require(run, Tables.PROBLEMS, "editforge ingest --input logic:FILE");
      inputs.add(Fingerprints.ofTable(run, Tables.REASONING));
      inputs.add(Fingerprints.ofTable(run, Tables.PROBLEMS));
    }
    boolean instructions = sft.mix().instructionRatio() > 0;
    if (instructions) {
      require(run, Tables.INSTRUCTIONS, "editforge ingest --input instructions:FILE");
      inputs.add(Fingerprints.ofTable(run, Tables.INSTRUCTIONS));
    }
    Config raw = ctx.settings().raw();
    String configHash = Fingerprints.configHash(
        raw.withOnlyPath("editforge.select").withFallback(raw.withOnlyPath("editforge.generate.reasoning")));
    String fingerprint = Fingerprints.combine(STAGE, ctx.settings().codeVersion(), configHash, inputs);

    Optional<Manifest> upToDate = ctx.skipIfUpToDate(STAGE, Tables.SFT, fingerprint);
    if (upToDate.isPresent()) {
      ensureExports(ctx, sft.export());
      return StageOutcome.ok(STAGE, List.of(upToDate.get()));
    }
    if (!reasoning && sft.reasoning().include()) {
      ctx.say("select: no reasoning table in " + run.root() + ": no reasoning rows");
    }

    ctx.spark().sparkContext().setJobDescription("select sft");
    Manifest manifest = Manifest.start(STAGE, Tables.SFT, configHash, ctx.settings().codeVersion(), fingerprint);
    Map<String, Long> detail = new LinkedHashMap<>();

    // Self-edits: best k per article.
    List<SftRow> selfEdits;
    if (sealRun != null) {
      manifest.put("seal_run", sealRun.toString());
      try {
        BestKSelector.Selection s = new BestKSelector(ctx.settings().select()).select(SealRunImport.read(sealRun));
        selfEdits = s.rows();
        BestKSelector.Counts c = s.counts();
        putEditCounts(detail, c.articles(), new long[] {
            c.input(), c.selected(), c.unscored(), c.blank(), c.belowGain(), c.belowAccuracy(), c.duplicates(), c.beyondK()});
      } catch (IOException e) {
        throw new UnusableInputException("cannot read SEAL run file " + sealRun + ": " + e.getMessage());
      }
    } else {
      selfEdits = selectEdits(ctx, detail);
    }

    // Reasoning traces.
    List<SftRow> reasoningRows = reasoning ? reasoningRows(ctx, detail) : List.of();
    List<SftRow> identity = IdentityData.sample(sft.identity());
    detail.put("identity_drawn", (long) identity.size());

    // Instructions.
    List<SftRow> instructionRows = new ArrayList<>();
    long invalidInstructions = 0;
    if (instructions) {
      for (Row r : ctx.spark().read().parquet(run.tableUri(Tables.INSTRUCTIONS)).orderBy("instruction_id").collectAsList()) {
        List<ChatMessage> messages = new ArrayList<>();
        for (Row m : r.<Row>getList(r.fieldIndex("messages"))) {
          messages.add(new ChatMessage(m.getString(0), m.getString(1)));
        }
        try {
          instructionRows.add(InstructionData.fromMessages(messages));
        } catch (IllegalArgumentException e) {
          invalidInstructions++;
        }
      }
    }

    SftMixer.Mix mix = SftMixer.mix(selfEdits, reasoningRows, identity, instructionRows, sft.mix());
    long instructionInput = instructions ? instructionRows.size() + invalidInstructions : 0;
    long notDrawn = instructionRows.size() - mix.used().get(SftSource.INSTRUCTION);
    detail.put("instructions_available", instructionInput);
    detail.put("instructions_invalid", invalidInstructions);
    detail.put("instructions_wanted", (long) mix.wanted());
    detail.put("instructions_not_drawn", notDrawn);

    long input = detail.get("self_edits") + detail.getOrDefault("reasoning_traces", 0L) + identity.size() + instructionInput;
    long accepted = mix.rows().size();
    long duplicates = detail.get("duplicates");
    long rejected = detail.get("unscored") + detail.get("blank") + detail.get("below_gain") + detail.get("below_accuracy")
        + detail.get("beyond_k") + detail.getOrDefault("reasoning_dropped", 0L) + invalidInstructions + notDrawn;
    if (input != accepted + rejected + duplicates) {
      throw new IllegalStateException("select counts do not add up: input " + input + " != accepted " + accepted
          + " + rejected " + rejected + " + duplicates " + duplicates + " (" + detail + ")");
    }
    manifest.count("input", input).count("accepted", accepted).count("rejected", rejected)
        .count("duplicates", duplicates).count("output", accepted);
    for (SftSource s : SftSource.values()) {
      manifest.count(s.wireName(), mix.used().get(s));
    }
    detail.forEach(manifest::count);
    manifest.put("mix", mix.summary());

    Path staging = run.newStaging(Tables.SFT);
    SftTable.write(ctx.spark(), mix.rows(), staging);
    List<Path> exports = exportPaths(run, sft.export());
    manifest.put("exports", exports.stream().map(Path::toString).toList());
    manifest.finish(Manifest.COMPLETED);
    run.writeString(new Path(staging, RunDir.MANIFEST), manifest.toJson());
    run.commit(staging, Tables.SFT);
    SftFiles.write(mix.rows(), run.path(EXPORTS), sft.export(), run.fs().getConf());
    ctx.say(summary(manifest, run));
    return StageOutcome.ok(STAGE, List.of(manifest));
  }

  private static FileSystem localFs(StageContext ctx) {
    try {
      return FileSystem.getLocal(ctx.spark().sparkContext().hadoopConfiguration());
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static void require(RunDir run, String table, String producer) {
    if (!StageTables.isUsable(run, table)) {
      throw UnusableInputException.table(STAGE, run, table, producer);
    }
  }

  /** ttt_scores grouped per edit, joined to self_edits, best k per article on the executors. */
  private static List<SftRow> selectEdits(StageContext ctx, Map<String, Long> detail) {
    SparkSession spark = ctx.spark();
    RunDir run = ctx.runDir();
    Dataset<Row> scores = spark.read().parquet(run.tableUri(Tables.TTT_SCORES))
        .groupBy("edit_id")
        .agg(collect_list(struct(col("repeat"), col("adapter_accuracy"), col("baseline_accuracy"))).as("repeats"));
    Dataset<Row> edits = spark.read().parquet(run.tableUri(Tables.SELF_EDITS))
        .select(col("edit_id"), col("article_id"), col("prompt"), col("completion"),
            col("sampling.sample_index").as("sample_index"));
    JavaRDD<Row> joined = edits.join(scores, edits.col("edit_id").equalTo(scores.col("edit_id")), "left")
        .select(edits.col("edit_id"), col("article_id"), col("prompt"), col("completion"), col("sample_index"),
            col("repeats"))
        .javaRDD();
    List<SelectFunctions.Picked> picked = joined
        .mapToPair(new SelectFunctions.KeyByArticle())
        .groupByKey(ctx.settings().spark().shufflePartitions())
        .flatMap(new SelectFunctions.SelectArticle(ctx.settings().select()))
        .collect();
    long[] counts = new long[8];
    long articles = 0;
    List<SelectFunctions.Picked> rows = new ArrayList<>();
    for (SelectFunctions.Picked p : picked) {
      if (p.isCounts()) {
        articles++;
        for (int i = 0; i < counts.length; i++) {
          counts[i] += p.counts[i];
        }
      } else {
        rows.add(p);
      }
    }
    rows.sort(Comparator.<SelectFunctions.Picked, String>comparing(p -> p.articleId).thenComparingInt(p -> p.rank));
    putEditCounts(detail, articles, counts);
    List<SftRow> out = new ArrayList<>(rows.size());
    for (SelectFunctions.Picked p : rows) {
      out.add(SftRow.exchange(p.prompt, p.completion, SftSource.SELF_EDIT, p.editId, p.score));
    }
    return out;
  }

  private static void putEditCounts(Map<String, Long> detail, long articles, long[] c) {
    detail.put("articles", articles);
    detail.put("self_edits", c[0]);
    detail.put("unscored", c[2]);
    detail.put("blank", c[3]);
    detail.put("below_gain", c[4]);
    detail.put("below_accuracy", c[5]);
    detail.put("duplicates", c[6]);
    detail.put("beyond_k", c[7]);
  }

  /** Reasoning traces joined to their questions; kept ones become rows in (problem, question, sample) order. */
  private static List<SftRow> reasoningRows(StageContext ctx, Map<String, Long> detail) {
    SparkSession spark = ctx.spark();
    RunDir run = ctx.runDir();
    Dataset<Row> questions = spark.read().parquet(run.tableUri(Tables.PROBLEMS))
        .select(col("problem_id").as("q_problem_id"), col("problem"), posexplode(col("questions")).as(new String[] {"q_index", "q"}));
    Dataset<Row> traces = spark.read().parquet(run.tableUri(Tables.REASONING));
    JavaRDD<Row> joined = traces.join(questions,
            traces.col("problem_id").equalTo(questions.col("q_problem_id"))
                .and(traces.col("question_index").equalTo(questions.col("q_index"))), "left")
        .select(col("trace_id"), col("problem_id"), col("question_index"), col("sample_index"), col("reasoning"),
            col("agrees"), col("vote_share"), col("error"), col("problem"), col("q.question"), col("q.options"))
        .javaRDD();
    ReasoningSettings rs = ctx.settings().reasoning();
    List<SelectFunctions.ReasoningPick> picks = new ArrayList<>(joined
        .map(new SelectFunctions.DecideTrace(rs.studentPrompt(), rs.templates(), ctx.settings().sft().reasoning()))
        .collect());
    picks.sort(Comparator.<SelectFunctions.ReasoningPick, String>comparing(p -> p.problemId)
        .thenComparingInt(p -> p.questionIndex).thenComparingInt(p -> p.sampleIndex).thenComparing(p -> p.traceId));
    Map<String, Long> drops = new TreeMap<>();
    for (ReasoningRows.Drop d : ReasoningRows.Drop.values()) {
      drops.put(d.key(), 0L);
    }
    List<SftRow> out = new ArrayList<>();
    for (SelectFunctions.ReasoningPick p : picks) {
      if (p.drop == null) {
        out.add(new SftRow(p.prompt, p.completion, List.of(ChatMessage.user(p.prompt), ChatMessage.assistant(p.completion)),
            SftSource.REASONING, p.traceId, p.voteShare));
      } else {
        drops.merge(p.drop, 1L, Long::sum);
      }
    }
    detail.put("reasoning_traces", (long) picks.size());
    detail.put("reasoning_dropped", (long) (picks.size() - out.size()));
    detail.putAll(drops);
    return out;
  }

  static List<Path> exportPaths(RunDir run, SftExport.Settings export) {
    List<Path> out = new ArrayList<>();
    for (String name : SftFiles.fileNames(export)) {
      out.add(new Path(run.path(EXPORTS), name));
    }
    return out;
  }

  /** On a skip: rewrites the export files from the table when one of them is missing. */
  private static void ensureExports(StageContext ctx, SftExport.Settings export) {
    RunDir run = ctx.runDir();
    if (exportPaths(run, export).stream().allMatch(run::exists)) {
      return;
    }
    List<SftRow> rows = SftTable.read(ctx.spark(), run);
    for (Path p : SftFiles.write(rows, run.path(EXPORTS), export, run.fs().getConf())) {
      ctx.say("select: rewrote export " + p);
    }
  }

  static String summary(Manifest m, RunDir run) {
    return String.format(Locale.ROOT,
        "select: sft %s: %,d rows (self_edit %,d, reasoning %,d, self_cognition %,d, instruction %,d) from %,d input rows"
            + " (%,d self-edits of %,d articles); %,d rejected, %,d duplicates -> %s; exports in %s",
        m.status(), m.count("output"), m.count("self_edit"), m.count("reasoning"), m.count("self_cognition"),
        m.count("instruction"), m.count("input"), m.count("self_edits"), m.count("articles"), m.count("rejected"),
        m.count("duplicates"), run.table(Tables.SFT), run.path(EXPORTS));
  }
}
