package dev.editforge.generate;

import static org.apache.spark.sql.functions.col;

import dev.editforge.io.Fingerprints;
import dev.editforge.io.Ids;
import dev.editforge.io.Manifest;
import dev.editforge.io.RunDir;
import dev.editforge.io.StageTables;
import dev.editforge.io.Tables;
import dev.editforge.llm.SamplingParams;
import dev.editforge.spark.PipelineStage;
import dev.editforge.spark.StageContext;
import dev.editforge.spark.StageOutcome;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import org.apache.hadoop.fs.Path;
import org.apache.spark.api.java.JavaRDD;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;

/**
 * {@code editforge generate --what reasoning}: n reasoning traces ({@code generate.reasoning.samples},
 * {@code --n}) for every question of the {@code problems} table into the {@code reasoning} table.
 *
 * <p>A question with a gold answer gets the teacher prompt (problem, question, lettered options,
 * the answer); one without (or whose answer names no option) gets the student prompt, and its
 * traces vote (self-consistency). The answer letter is extracted from each trace ({@code
 * generate.reasoning.answer-patterns}); {@code agrees} and {@code vote_share} follow
 * {@link ReasoningVotes}. {@code only-agreeing} keeps only agreeing traces in the table.
 *
 * <p>Seeds, ids and resume as in {@link SelfEditJob}: seed per (problem, question, sample);
 * {@code trace_id} hashes the problem, question, sample, seed, prompt, model and sampling, so a
 * kept row (no error, same trace_id) is exactly what the current settings would generate. Votes
 * are recomputed over kept + new traces. A question whose options cannot be lettered (none, or more
 * than 26) gets rows with {@code error} and is not sent to the model.
 */
public final class ReasoningJob implements dev.editforge.spark.LegacyStage {
  public static final String STAGE = "generate";

  /** One (problem, question, sample) to generate; {@code error} set when no prompt could be built. */
  public record TraceTask(String traceId, String problemId, int questionIndex, int sampleIndex, String prompt,
      String gold, int options, long seed, String error) implements Serializable {}

  @Override
  public String name() {
    return STAGE;
  }

  @Override
  public StageOutcome run(StageContext ctx) {
    RunDir run = ctx.runDir();
    if (!StageTables.isUsable(run, Tables.PROBLEMS)) {
      return StageOutcome.nothingToDo(STAGE, "reasoning: no problems table in " + run.root()
          + " (run editforge ingest --input logic:FILE first)");
    }
    GenerateStage.Resolved resolved = GenerateStage.resolve(ctx);
    if (resolved.spec() == null) {
      return StageOutcome.nothingToDo(STAGE, "reasoning: " + resolved.problem());
    }
    GeneratorSpec spec = resolved.spec();
    ReasoningSettings rs = ctx.settings().reasoning();
    GenerateSettings.ReasoningSampling smp = ctx.settings().generate().reasoningSampling();
    String configHash = Fingerprints.configHash(ctx.settings().section("generate")
        .withoutPath("what").withoutPath("self-edit").withFallback(spec.local()
            ? ctx.settings().section("llm").atKey("llm") : ctx.settings().section("remote").atKey("remote")));
    String fingerprint = Fingerprints.combine(STAGE + ":reasoning", ctx.settings().codeVersion(), configHash,
        List.of(Fingerprints.ofTable(run, Tables.PROBLEMS), "model=" + spec.modelName() + ":" + spec.modelDir()));
    if (!ctx.force()) {
      Optional<Manifest> m = StageTables.upToDate(run, Tables.REASONING, fingerprint);
      if (m.isPresent() && m.get().count("errors") == 0) {
        Manifest skipped = StageTables.markSkipped(run, Tables.REASONING, m.get());
        ctx.say("generate: reasoning skipped: up-to-date (" + skipped.count("output") + " rows in "
            + run.table(Tables.REASONING) + ")");
        return StageOutcome.ok(STAGE, List.of(skipped));
      }
    }

    String model = spec.modelName();
    Map<String, String> templates = new HashMap<>(rs.templates());
    String teacher = rs.teacherPrompt();
    String student = rs.studentPrompt();
    int n = rs.samples();
    GenerateFunctions.Sampling sampling = new GenerateFunctions.Sampling(smp.maxNewTokens(), smp.temperature(), smp.topP());
    long baseSeed = smp.seed();
    Dataset<Row> problems = ctx.spark().read().parquet(run.tableUri(Tables.PROBLEMS));
    JavaRDD<TraceTask> all = problems.select("problem_id", "problem", "questions").javaRDD()
        .flatMap(r -> tasks(r.getString(0), r.getString(1), r.getList(2), new ReasoningPrompts(templates), teacher,
            student, n, baseSeed, model, sampling).iterator());
    all = all.cache();
    try {
      Dataset<Row> ids = ctx.spark().createDataFrame(all.map(t -> RowFactory.create(t.traceId())),
          DataTypes.createStructType(List.of(DataTypes.createStructField("t_id", DataTypes.StringType, false))));
      Dataset<Row> kept;
      if (ctx.force()) {
        kept = ctx.spark().createDataFrame(List.of(), Tables.REASONING_SCHEMA);
      } else {
        kept = GenerateStage.previous(ctx, Tables.REASONING, Tables.REASONING_SCHEMA)
            .filter(col("error").isNull())
            .join(ids, col("trace_id").equalTo(col("t_id")), "left_semi")
            .dropDuplicates("trace_id");
      }
      kept = kept.persist(org.apache.spark.storage.StorageLevel.MEMORY_AND_DISK());
      long reused = kept.count();
      java.util.Set<String> keptIds = new java.util.HashSet<>(kept.select("trace_id").as(
          org.apache.spark.sql.Encoders.STRING()).collectAsList());
      org.apache.spark.broadcast.Broadcast<java.util.Set<String>> keptB =
          org.apache.spark.api.java.JavaSparkContext.fromSparkContext(ctx.spark().sparkContext()).broadcast(keptIds);
      JavaRDD<TraceTask> pending = all.filter(t -> !keptB.value().contains(t.traceId()));
      long total = all.count();
      long unusable = all.filter(t -> t.error() != null).count();
      long toGenerate = total - reused;
      Map<String, Object> note = GenerateStage.note();
      GenerateFunctions.Counters counters = GenerateFunctions.Counters.register(ctx.spark().sparkContext(), "reasoning");
      long t0 = System.nanoTime();
      List<String> chunks = List.of();
      if (toGenerate > 0) {
        ctx.say(String.format(Locale.ROOT, "generate: reasoning: %,d of %,d traces to generate with %s (%s)%s",
            toGenerate, total, model, spec.backend(), reused > 0 ? String.format(Locale.ROOT, "; %,d kept from earlier runs", reused) : ""));
        JavaRDD<TraceTask> unprompted = pending.filter(t -> t.error() != null);
        JavaRDD<TraceTask> prompted = pending.filter(t -> t.error() == null);
        // Tasks without a prompt become error rows without reaching the model.
        GenerateFunctions.SFn<TraceTask, BatchRunner.Job> toJob =
            t -> new BatchRunner.Job(t.traceId(), t.prompt(), sampling.seeded(t.seed()));
        chunks = new ArrayList<>(GenerateStage.generate(ctx, Tables.REASONING, prompted, toGenerate - unusableIn(unprompted),
            GenerateFunctions.partition(spec, toJob, ReasoningJob::rawRow, counters), Tables.REASONING_SCHEMA, note));
        if (!unprompted.isEmpty()) {
          Path p = new Path(GenerateStage.workDir(run, Tables.REASONING), "chunk-unprompted-" + java.util.UUID.randomUUID());
          ctx.spark().createDataFrame(unprompted.map(t -> rawRow(t, new BatchRunner.Outcome(null, null, t.error(), t.seed(), 0, 0))),
              Tables.REASONING_SCHEMA).write().parquet(p.toString());
          chunks.add(p.toString());
        }
      }
      double seconds = (System.nanoTime() - t0) / 1e9;
      Dataset<Row> raw = kept.unionByName(GenerateStage.read(ctx, chunks, Tables.REASONING_SCHEMA));

      // Extract answers and vote per question.
      List<String> patterns = new ArrayList<>(rs.answerPatterns());
      boolean lastLineOnly = rs.lastLineOnly();
      Map<String, Integer> optionCounts = new HashMap<>();
      all.filter(t -> t.sampleIndex() == 0).collect().forEach(t -> optionCounts.put(t.problemId() + "#" + t.questionIndex(), t.options()));
      org.apache.spark.broadcast.Broadcast<Map<String, Integer>> optionsB =
          org.apache.spark.api.java.JavaSparkContext.fromSparkContext(ctx.spark().sparkContext()).broadcast(optionCounts);
      boolean onlyAgreeing = smp.onlyAgreeing();
      JavaRDD<Row> judged = raw.javaRDD()
          .keyBy(r -> r.getString(1) + "#" + r.getInt(2))
          .groupByKey()
          .flatMap(group -> {
            List<Row> traces = new ArrayList<>();
            group._2().forEach(traces::add);
            traces.sort(Comparator.comparingInt(r -> r.getInt(3)));
            int options = optionsB.value().getOrDefault(group._1(), 0);
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
              out.add(RowFactory.create(r.getString(0), r.getString(1), r.getInt(2), r.getInt(3), r.getString(4),
                  predicted.get(i), gold, d.agrees().get(i), d.voteShares().get(i), r.getString(9)));
            }
            return out.iterator();
          });
      Dataset<Row> judgedAll = ctx.spark().createDataFrame(judged, Tables.REASONING_SCHEMA)
          .persist(org.apache.spark.storage.StorageLevel.MEMORY_AND_DISK());
      // Per question: a question without gold and with answers but no agreeing trace had a tie.
      Row q = judgedAll.groupBy("problem_id", "question_index")
          .agg(org.apache.spark.sql.functions.expr("count(gold) = 0").as("no_gold"),
              org.apache.spark.sql.functions.expr("count(predicted)").as("answered"),
              org.apache.spark.sql.functions.expr("count_if(agrees)").as("agreeing"))
          .selectExpr("count_if(no_gold and answered > 0 and agreeing = 0)", "count_if(answered = 0)").first();
      long ties = q.getLong(0);
      long noAnswer = q.getLong(1);
      long dropped = onlyAgreeing ? judgedAll.filter(col("agrees").equalTo(false)).count() : 0L;
      Path staging = run.newStaging(Tables.REASONING);
      (onlyAgreeing ? judgedAll.filter(col("agrees")) : judgedAll)
          .orderBy("problem_id", "question_index", "sample_index").write().parquet(staging.toString());
      judgedAll.unpersist(false);
      Dataset<Row> written = ctx.spark().read().parquet(staging.toString());
      Row counts = written.selectExpr("count(*)", "count(error)", "count_if(agrees)", "count(gold)").first();
      long output = counts.getLong(0);
      long errors = counts.getLong(1);
      long agreeing = counts.getLong(2);
      long withGold = counts.getLong(3);
      Manifest m = Manifest.start(STAGE, Tables.REASONING, configHash, ctx.settings().codeVersion(), fingerprint)
          .count("input", total).count("accepted", output).count("rejected", dropped).count("duplicates", 0)
          .count("output", output).count("questions", optionCounts.size()).count("errors", errors)
          .count("unusable_questions_traces", unusable).count("agreeing", agreeing).count("with_gold", withGold)
          .count("ties", ties).count("no_answer_questions", noAnswer)
          .count("dropped_not_agreeing", dropped).count("reused", reused).count("generated", toGenerate)
          .count("completion_tokens", counters.completionTokens().value())
          .count("empty_retries", counters.emptyRetries().value()).count("oom_splits", counters.oomSplits().value());
      m.put("samples_per_question", n);
      m.put("teacher_prompt", teacher);
      m.put("student_prompt", student);
      m.put("only_agreeing", onlyAgreeing);
      m.put("generator", spec.describe());
      m.put("sampling", Map.of("temperature", smp.temperature(), "top_p", smp.topP(), "max_new_tokens", smp.maxNewTokens(),
          "seed", baseSeed));
      m.put("executors", counters.distinctBindings());
      note.forEach(m::put);
      m.put("generate_seconds", seconds);
      m.finish(Manifest.COMPLETED);
      run.writeString(new Path(staging, RunDir.MANIFEST), m.toJson());
      run.commit(staging, Tables.REASONING);
      run.delete(GenerateStage.workDir(run, Tables.REASONING));
      ctx.say(String.format(Locale.ROOT,
          "generate: reasoning completed: %,d traces for %,d questions (n = %d, model %s): %,d agree, %,d with errors, "
              + "%,d dropped (only-agreeing), %,d ties -> %s", output, optionCounts.size(), n, model, agreeing, errors,
          dropped, ties, run.table(Tables.REASONING)));
      return StageOutcome.ok(STAGE, List.of(m));
    } finally {
      all.unpersist(false);
    }
  }

  private static long unusableIn(JavaRDD<TraceTask> unprompted) {
    return unprompted.count();
  }

  /** The traces to generate for one problem: n per question. */
  static List<TraceTask> tasks(String problemId, String problem, List<Row> questions, ReasoningPrompts prompts,
      String teacher, String student, int n, long baseSeed, String model, GenerateFunctions.Sampling sampling) {
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
        prompt = gold != null ? prompts.teacher(teacher, problem, question, options, gold)
            : prompts.student(student, problem, question, options);
      } catch (IllegalArgumentException e) {
        error = "cannot build the prompt: " + e.getMessage();
      }
      for (int s = 0; s < n; s++) {
        long seed = BatchRunner.seed(baseSeed, "reasoning", problemId, Integer.toString(q), Integer.toString(s));
        String traceId = Ids.of("trace", problemId, Integer.toString(q), Integer.toString(s), Long.toString(seed),
            prompt == null ? "" : prompt, model, Double.toString(sampling.temperature()), Double.toString(sampling.topP()),
            Integer.toString(sampling.maxNewTokens()));
        out.add(new TraceTask(traceId, problemId, q, s, prompt, gold, options.size(), seed, error));
      }
    }
    return out;
  }

  /** A trace before answers are judged: agrees and vote_share come later. */
  static Row rawRow(TraceTask t, BatchRunner.Outcome o) {
    return RowFactory.create(t.traceId(), t.problemId(), t.questionIndex(), t.sampleIndex(), o.text(), null, t.gold(),
        null, null, o.error());
  }
}
