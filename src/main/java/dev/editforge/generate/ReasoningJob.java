package dev.editforge.generate;

import static org.apache.spark.sql.functions.col;

import dev.editforge.config.GenerateSettings;
import dev.editforge.config.ReasoningSettings;
import dev.editforge.io.Fingerprints;
import dev.editforge.io.Ids;
import dev.editforge.io.Manifest;
import dev.editforge.io.RunDir;
import dev.editforge.io.Tables;
import dev.editforge.io.WorkParts;
import dev.editforge.spark.PipelineStage;
import dev.editforge.spark.StageContext;
import dev.editforge.spark.StageOutput;
import dev.editforge.spark.StagePlan;
import dev.editforge.text.AnswerVoting;
import dev.editforge.text.LogicSftRecipe;
import dev.editforge.text.ReasoningPrompts;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.api.java.JavaSparkContext;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.broadcast.Broadcast;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Encoders;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.storage.StorageLevel;
import scala.Tuple2;

/**
 * {@code editforge generate --what reasoning}: n reasoning traces ({@code
 * generate.reasoning.samples}, {@code --n}) for every question of the {@code problems} table into
 * the {@code reasoning} table.
 *
 * <p>A question with a gold answer gets the teacher prompt (problem, question, lettered options,
 * the answer); one without (or whose answer names no option) gets the student prompt, and its
 * traces vote (self-consistency). The answer letter is extracted from each trace ({@code
 * generate.reasoning.answer-patterns}); {@code agrees} and {@code vote_share} follow {@link
 * ReasoningVotes}. {@code only-agreeing} keeps only agreeing traces in the table.
 *
 * <p>Seeds, ids and resume as in {@link SelfEditJob}: seed per (problem, question, sample); {@code
 * trace_id} hashes the problem, question, sample, seed, prompt, model and sampling, so a kept row
 * (no error, same trace_id) is exactly what the current settings would generate. Votes are
 * recomputed over kept + new traces. A question whose options cannot be lettered (none, or more
 * than 26) gets rows with {@code error} and is not sent to the model.
 *
 * <p>{@code generate.reasoning.recipe = logic-sft} swaps the prompts for seed 004's ({@link
 * LogicSftRecipe}): its teacher system message + user message, or its inference prompt without
 * gold; {@code generate.reasoning.stop} ends traces (by default that recipe's cut strings).
 */
public final class ReasoningJob implements PipelineStage {
  public static final String STAGE = "generate";

  /**
   * One (problem, question, sample) to generate; {@code error} set when no prompt could be built.
   */
  public record TraceTask(
      String traceId,
      String problemId,
      int questionIndex,
      int sampleIndex,
      String prompt,
      String gold,
      int options,
      long seed,
      String error)
      implements Serializable {}

  @Override
  public String name() {
    return STAGE;
  }

  @Override
  public List<String> requires() {
    return List.of(Tables.PROBLEMS);
  }

  @Override
  public StagePlan plan(StageContext ctx) {
    GenerateStage.Resolved resolved = GenerateStage.resolve(ctx);
    if (resolved.spec() == null) {
      return StagePlan.nothingToDo("reasoning: " + resolved.problem());
    }
    GeneratorSpec spec = resolved.spec();
    return StagePlan.of(
        GenerateStage.output(
            ctx,
            spec,
            "reasoning",
            "self-edit",
            Tables.REASONING,
            Tables.PROBLEMS,
            out -> write(out, spec)));
  }

  /**
   * Generates the missing traces, judges kept + new per question and writes them into {@code out}.
   */
  static void write(StageOutput.Staged out, GeneratorSpec spec) {
    StageContext ctx = out.context();
    RunDir run = ctx.runDir();
    ReasoningSettings rs = ctx.settings().reasoning();
    GenerateSettings.ReasoningSampling smp = ctx.settings().generate().reasoningSampling();
    JavaSparkContext jsc = JavaSparkContext.fromSparkContext(ctx.spark().sparkContext());
    String model = spec.modelName();
    GenerateFunctions.Sampling sampling =
        new GenerateFunctions.Sampling(
            smp.maxNewTokens(), smp.temperature(), smp.topP(), rs.stop());
    WorkParts parts = GenerateStage.openWork(out, Tables.REASONING);
    JavaRDD<TraceTask> all = tasks(ctx, rs, smp.seed(), model, sampling).cache();
    Dataset<Row> kept = null;
    Dataset<Row> judged = null;
    Broadcast<Set<String>> keptIds = null;
    Broadcast<Map<String, Integer>> optionCounts = null;
    try {
      String reuseKey = reuseKey(ctx, spec);
      out.manifest().put(REUSE_KEY, reuseKey);
      Dataset<Row> previous =
          ctx.force()
              ? ctx.spark().createDataFrame(List.of(), Tables.REASONING_SCHEMA)
              : previous(ctx, parts, reuseKey);
      kept = kept(ctx, previous, all).persist(StorageLevel.MEMORY_AND_DISK());
      long reused = kept.count();
      long removed = ctx.force() ? 0 : removed(ctx, all);
      keptIds =
          jsc.broadcast(
              new HashSet<>(kept.select("trace_id").as(Encoders.STRING()).collectAsList()));
      Broadcast<Set<String>> keptB = keptIds;
      JavaRDD<TraceTask> pending = all.filter(t -> !keptB.value().contains(t.traceId()));
      long total = all.count();
      long unusable = all.filter(t -> t.error() != null).count();
      long toGenerate = total - reused;
      Map<String, Object> note = GenerateStage.note();
      GenerateFunctions.Counters counters =
          GenerateFunctions.Counters.register(ctx.spark().sparkContext(), "reasoning");
      long t0 = System.nanoTime();
      List<String> chunks = List.of();
      if (toGenerate > 0) {
        ctx.say(
            String.format(
                Locale.ROOT,
                "generate: reasoning: %,d of %,d traces to generate with %s (%s)%s",
                toGenerate,
                total,
                model,
                spec.backend(),
                reused > 0
                    ? String.format(Locale.ROOT, "; %,d kept from earlier runs", reused)
                    : ""));
        chunks =
            generate(
                ctx,
                parts,
                pending,
                toGenerate,
                spec,
                sampling,
                rs.logicSft() ? LogicSftRecipe.TEACHER_SYSTEM : null,
                counters,
                note);
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      Dataset<Row> raw = kept.unionByName(GenerateStage.read(ctx, chunks, Tables.REASONING_SCHEMA));

      Map<String, Integer> options = new HashMap<>();
      all.filter(t -> t.sampleIndex() == 0)
          .collect()
          .forEach(t -> options.put(t.problemId() + "#" + t.questionIndex(), t.options()));
      optionCounts = jsc.broadcast(options);
      judged =
          ctx.spark()
              .createDataFrame(
                  raw.javaRDD()
                      .keyBy(r -> r.getString(1) + "#" + r.getInt(2))
                      .groupByKey()
                      .flatMap(
                          new JudgeQuestion(
                              new ArrayList<>(rs.answerPatterns()),
                              rs.lastLineOnly(),
                              optionCounts)),
                  Tables.REASONING_SCHEMA)
              .persist(StorageLevel.MEMORY_AND_DISK());
      // Per question: a question without gold and with answers but no agreeing trace had a tie.
      Row q =
          judged
              .groupBy("problem_id", "question_index")
              .agg(
                  functions.expr("count(gold) = 0").as("no_gold"),
                  functions.expr("count(predicted)").as("answered"),
                  functions.expr("count_if(agrees)").as("agreeing"))
              .selectExpr(
                  "count_if(no_gold and answered > 0 and agreeing = 0)", "count_if(answered = 0)")
              .first();
      boolean onlyAgreeing = smp.onlyAgreeing();
      long dropped = onlyAgreeing ? judged.filter(col("agrees").equalTo(false)).count() : 0L;
      (onlyAgreeing ? judged.filter(col("agrees")) : judged)
          .orderBy("problem_id", "question_index", "sample_index")
          .write()
          .parquet(out.uri());
      Row counts =
          ctx.spark()
              .read()
              .parquet(out.uri())
              .selectExpr("count(*)", "count(error)", "count_if(agrees)", "count(gold)")
              .first();
      long output = counts.getLong(0);
      long errors = counts.getLong(1);
      long agreeing = counts.getLong(2);
      Manifest m =
          out.manifest()
              .count("input", total)
              .count("accepted", output)
              .count("rejected", dropped)
              .count("duplicates", 0)
              .count("output", output)
              .count("questions", options.size())
              .count("errors", errors)
              .count("unusable_questions_traces", unusable)
              .count("agreeing", agreeing)
              .count("with_gold", counts.getLong(3))
              .count("ties", q.getLong(0))
              .count("no_answer_questions", q.getLong(1))
              .count("dropped_not_agreeing", dropped)
              .count("reused", reused)
              .count("computed", toGenerate)
              .count("removed", removed)
              .count("generated", toGenerate)
              .count("completion_tokens", counters.completionTokens().value())
              .count("empty_retries", counters.emptyRetries().value())
              .count("oom_splits", counters.oomSplits().value());
      m.put("samples_per_question", rs.samples());
      m.put("recipe", rs.recipe());
      m.put("stop", rs.stop());
      m.put("teacher_prompt", rs.logicSft() ? LogicSftRecipe.NAME : rs.teacherPrompt());
      m.put("student_prompt", rs.logicSft() ? LogicSftRecipe.NAME : rs.studentPrompt());
      m.put("only_agreeing", onlyAgreeing);
      m.put("generator", spec.describe());
      m.put(
          "sampling",
          Map.of(
              "temperature",
              smp.temperature(),
              "top_p",
              smp.topP(),
              "max_new_tokens",
              smp.maxNewTokens(),
              "seed",
              smp.seed()));
      m.put("executors", counters.distinctBindings());
      note.forEach(m::put);
      m.put("generate_seconds", seconds);
      // Over every trace, before only-agreeing drops the ones with an error from the table.
      long traceErrors = judged.filter(col("error").isNotNull()).count();
      m.count("traces_with_error", traceErrors);
      String status =
          GenerateStage.checkErrors(
              out,
              rs.maxErrorFraction(),
              Tables.REASONING,
              traceErrors,
              total,
              traceErrors > 0 ? GenerateStage.firstError(judged) : null);
      out.summary(
          String.format(
              Locale.ROOT,
              "generate: reasoning %s: %,d traces for %,d questions (n = %d, model %s): %,d agree, %,d with errors, "
                  + "%,d dropped (only-agreeing), %,d ties -> %s",
              status,
              output,
              options.size(),
              rs.samples(),
              model,
              agreeing,
              errors,
              dropped,
              q.getLong(0),
              run.table(Tables.REASONING)));
    } finally {
      // Release what this run cached and shipped even when it fails, so a long-lived driver
      // (editforge run, benches) does not accumulate blocks and broadcasts stage after stage.
      if (judged != null) {
        judged.unpersist(false);
      }
      if (kept != null) {
        kept.unpersist(false);
      }
      if (keptIds != null) {
        keptIds.destroy();
      }
      if (optionCounts != null) {
        optionCounts.destroy();
      }
      all.unpersist(false);
    }
  }

  /** Every (problem, question, sample) of the problems table. */
  static JavaRDD<TraceTask> tasks(
      StageContext ctx,
      ReasoningSettings rs,
      long baseSeed,
      String model,
      GenerateFunctions.Sampling sampling) {
    Map<String, String> templates = new HashMap<>(rs.templates());
    String teacher = rs.teacherPrompt();
    String student = rs.studentPrompt();
    int n = rs.samples();
    boolean logicSft = rs.logicSft();
    return ctx.spark()
        .read()
        .parquet(ctx.runDir().tableUri(Tables.PROBLEMS))
        .select("problem_id", "problem", "questions")
        .javaRDD()
        .flatMap(
            r ->
                tasks(
                        r.getString(0),
                        r.getString(1),
                        r.getList(2),
                        logicSft ? null : new ReasoningPrompts(templates),
                        teacher,
                        student,
                        n,
                        baseSeed,
                        model,
                        sampling)
                    .iterator());
  }

  /** Manifest field: what every row of the table was generated under besides its trace_id. */
  static final String REUSE_KEY = "reuse_key";

  /**
   * What a trace depends on that its {@code trace_id} (problem, question, sample, seed, prompt,
   * model name, sampling) does not say: the code version, the model's weights ({@link
   * Fingerprints#ofModel} of the local directory; the served name for a remote model) and the
   * runtime section that generates ({@code llm} or {@code remote}). A committed table written under
   * another reuse key lends no rows.
   */
  static String reuseKey(StageContext ctx, GeneratorSpec spec) {
    return Ids.of(
        "reasoning-rows",
        ctx.settings().codeVersion(),
        spec.modelDir() != null
            ? Fingerprints.ofModel(spec.modelDir())
            : "remote:" + spec.endpoint() + ":" + spec.modelName(),
        Fingerprints.configHash(ctx.settings().section(spec.local() ? "llm" : "remote")));
  }

  /** Whether the committed table's rows were generated under {@code reuseKey}. */
  static boolean sameReuseKey(RunDir run, String reuseKey) {
    return run.manifest(Tables.REASONING).map(m -> reuseKey.equals(m.get(REUSE_KEY))).orElse(false);
  }

  /**
   * Earlier traces a rerun may keep: the committed table's when it was generated under the same
   * reuse key, and the committed work chunks' (what a killed run of this stage left).
   */
  static Dataset<Row> previous(StageContext ctx, WorkParts parts, String reuseKey) {
    Dataset<Row> all =
        sameReuseKey(ctx.runDir(), reuseKey)
            ? ctx.spark()
                .read()
                .schema(Tables.REASONING_SCHEMA)
                .parquet(ctx.runDir().tableUri(Tables.REASONING))
            : ctx.spark().createDataFrame(List.of(), Tables.REASONING_SCHEMA);
    for (String chunk : GenerateStage.chunks(parts)) {
      all = all.unionByName(ctx.spark().read().schema(Tables.REASONING_SCHEMA).parquet(chunk));
    }
    return all;
  }

  /** Rows of the committed table whose (problem, question, sample) this run no longer has. */
  static long removed(StageContext ctx, JavaRDD<TraceTask> all) {
    if (ctx.runDir().manifest(Tables.REASONING).isEmpty()) {
      return 0;
    }
    Dataset<Row> current =
        ctx.spark()
            .createDataFrame(
                all.map(t -> RowFactory.create(t.problemId(), t.questionIndex(), t.sampleIndex())),
                DataTypes.createStructType(
                    List.of(
                        DataTypes.createStructField("t_problem_id", DataTypes.StringType, false),
                        DataTypes.createStructField("t_question", DataTypes.IntegerType, false),
                        DataTypes.createStructField("t_sample", DataTypes.IntegerType, false))));
    return ctx.spark()
        .read()
        .schema(Tables.REASONING_SCHEMA)
        .parquet(ctx.runDir().tableUri(Tables.REASONING))
        .join(
            current,
            col("problem_id")
                .equalTo(col("t_problem_id"))
                .and(col("question_index").equalTo(col("t_question")))
                .and(col("sample_index").equalTo(col("t_sample"))),
            "left_anti")
        .count();
  }

  /** Earlier traces a rerun keeps: no error and a trace_id the current settings would generate. */
  static Dataset<Row> kept(StageContext ctx, Dataset<Row> previous, JavaRDD<TraceTask> all) {
    Dataset<Row> ids =
        ctx.spark()
            .createDataFrame(
                all.map(t -> RowFactory.create(t.traceId())),
                DataTypes.createStructType(
                    List.of(DataTypes.createStructField("t_id", DataTypes.StringType, false))));
    return previous
        .filter(col("error").isNull())
        .join(ids, col("trace_id").equalTo(col("t_id")), "left_semi")
        .dropDuplicates("trace_id");
  }

  /**
   * Generates the pending traces in committed chunks; tasks without a prompt become error rows in a
   * chunk of their own without reaching the model.
   */
  static List<String> generate(
      StageContext ctx,
      WorkParts parts,
      JavaRDD<TraceTask> pending,
      long count,
      GeneratorSpec spec,
      GenerateFunctions.Sampling sampling,
      String teacherSystem,
      GenerateFunctions.Counters counters,
      Map<String, Object> note) {
    JavaRDD<TraceTask> unprompted = pending.filter(t -> t.error() != null);
    JavaRDD<TraceTask> prompted = pending.filter(t -> t.error() == null);
    // The recipe's system message goes with teacher prompts (questions with a gold answer) only.
    GenerateFunctions.SFn<TraceTask, BatchRunner.Job> toJob =
        t ->
            new BatchRunner.Job(
                t.traceId(),
                t.prompt(),
                sampling.seeded(t.seed()),
                t.gold() != null ? teacherSystem : null);
    List<String> chunks =
        new ArrayList<>(
            GenerateStage.generate(
                ctx,
                parts,
                Tables.REASONING,
                prompted,
                count - unprompted.count(),
                GenerateFunctions.partition(spec, toJob, ReasoningJob::rawRow, counters),
                Tables.REASONING_SCHEMA,
                note));
    if (!unprompted.isEmpty()) {
      Dataset<Row> rows =
          ctx.spark()
              .createDataFrame(
                  unprompted.map(
                      t ->
                          rawRow(
                              t, new BatchRunner.Outcome(null, null, t.error(), t.seed(), 0, 0))),
                  Tables.REASONING_SCHEMA);
      chunks.add(
          GenerateStage.writeChunk(
              parts, rows, "unprompted", "traces of questions without a prompt"));
    }
    return chunks;
  }

  /**
   * One question's traces (keyed {@code problem_id#question_index}) judged together: each trace's
   * answer letter, then agreement and vote shares over all of them ({@link ReasoningVotes}).
   */
  static final class JudgeQuestion implements FlatMapFunction<Tuple2<String, Iterable<Row>>, Row> {
    private final List<String> patterns;
    private final boolean lastLineOnly;
    private final Broadcast<Map<String, Integer>> optionCounts;

    JudgeQuestion(
        List<String> patterns, boolean lastLineOnly, Broadcast<Map<String, Integer>> optionCounts) {
      this.patterns = patterns;
      this.lastLineOnly = lastLineOnly;
      this.optionCounts = optionCounts;
    }

    @Override
    public Iterator<Row> call(Tuple2<String, Iterable<Row>> group) {
      List<Row> traces = new ArrayList<>();
      group._2().forEach(traces::add);
      traces.sort(Comparator.comparingInt(r -> r.getInt(3)));
      int options = optionCounts.value().getOrDefault(group._1(), 0);
      AnswerVoting voting = new AnswerVoting(patterns, lastLineOnly);
      List<String> predicted = new ArrayList<>();
      for (Row r : traces) {
        predicted.add(r.isNullAt(9) ? voting.extract(r.getString(4), options) : null);
      }
      String gold = traces.get(0).getString(6);
      ReasoningVotes.Decision d = ReasoningVotes.decide(predicted, gold);
      List<Row> out = new ArrayList<>();
      for (int i = 0; i < traces.size(); i++) {
        Row r = traces.get(i);
        out.add(
            RowFactory.create(
                r.getString(0),
                r.getString(1),
                r.getInt(2),
                r.getInt(3),
                r.getString(4),
                predicted.get(i),
                gold,
                d.agrees().get(i),
                d.voteShares().get(i),
                r.getString(9)));
      }
      return out.iterator();
    }
  }

  /** The traces to generate for one problem: n per question. */
  static List<TraceTask> tasks(
      String problemId,
      String problem,
      List<Row> questions,
      ReasoningPrompts prompts, // null: the logic-sft recipe's prompts
      String teacher,
      String student,
      int n,
      long baseSeed,
      String model,
      GenerateFunctions.Sampling sampling) {
    List<TraceTask> out = new ArrayList<>();
    for (int q = 0; q < questions.size(); q++) {
      Row qr = questions.get(q);
      String question = qr.getString(0);
      List<String> options = qr.getList(1);
      String answer = qr.isNullAt(2) ? null : qr.getString(2);
      String gold = AnswerVoting.goldLetter(answer, options);
      String prompt = null;
      String error = null;
      try {
        prompt =
            prompts == null
                ? LogicSftRecipe.prompt(problem, question, options, gold)
                : gold != null
                    ? prompts.teacher(teacher, problem, question, options, gold)
                    : prompts.student(student, problem, question, options);
      } catch (IllegalArgumentException e) {
        error = "cannot build the prompt: " + e.getMessage();
      }
      for (int s = 0; s < n; s++) {
        long seed =
            BatchRunner.seed(
                baseSeed, "reasoning", problemId, Integer.toString(q), Integer.toString(s));
        String traceId =
            Ids.of(
                "trace",
                problemId,
                Integer.toString(q),
                Integer.toString(s),
                Long.toString(seed),
                prompt == null ? "" : prompt,
                model,
                Double.toString(sampling.temperature()),
                Double.toString(sampling.topP()),
                Integer.toString(sampling.maxNewTokens()));
        out.add(new TraceTask(traceId, problemId, q, s, prompt, gold, options.size(), seed, error));
      }
    }
    return out;
  }

  /** A trace before answers are judged: agrees and vote_share come later. */
  static Row rawRow(TraceTask t, BatchRunner.Outcome o) {
    return RowFactory.create(
        t.traceId(),
        t.problemId(),
        t.questionIndex(),
        t.sampleIndex(),
        o.text(),
        null,
        t.gold(),
        null,
        null,
        o.error());
  }
}
