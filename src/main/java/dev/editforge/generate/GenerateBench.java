package dev.editforge.generate;

import dev.editforge.config.SelfEditSettings;
import dev.editforge.io.Manifest;
import dev.editforge.io.Tables;
import dev.editforge.llm.DecoderLoader;
import dev.editforge.llm.LoadedDecoder;
import dev.editforge.llm.LocalGenerator;
import dev.editforge.llm.remote.RemoteBench;
import dev.editforge.spark.StageContext;
import dev.editforge.spark.StageRunner;
import java.io.PrintStream;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import org.apache.spark.sql.Row;

/**
 * The logic of {@code editforge bench generate}:
 *
 * <ol>
 *   <li>tokens/s of the self-edit stage through Spark ({@link SelfEditJob} on the run's articles,
 *       forced, after one warm-up run so the executor's model is loaded) against a bare loop in
 *       this JVM over the same prompts, seeds, batch size and model ({@link BatchRunner} on a
 *       {@link LocalGenerator}); the goal is spark/bare >= 0.85. Both time generation only (the
 *       Spark number is the stage's {@code generate_seconds}: task scheduling, the shuffle that
 *       spreads the tasks, batching and writing the chunk's Parquet included);
 *   <li>prompts/s of the remote backend against an instant loopback server ({@link
 *       RemoteBench#promptsPerSecond}).
 * </ol>
 *
 * Prints a table and ends with {@code BENCH generate spark_vs_bare=<x> remote_prompts_per_s=<x>}.
 */
public final class GenerateBench {
  private GenerateBench() {}

  public record Result(
      long tokens,
      double sparkSeconds,
      double sparkStageSeconds,
      double bareSeconds,
      long bareTokens,
      double remotePromptsPerSecond) {
    public double sparkTokensPerSecond() {
      return tokens / sparkSeconds;
    }

    public double bareTokensPerSecond() {
      return bareTokens / bareSeconds;
    }

    public double ratio() {
      return sparkTokensPerSecond() / bareTokensPerSecond();
    }
  }

  /**
   * Runs both measurements on {@code ctx}'s run (its articles must be ingested; the model is
   * local).
   */
  public static Result run(StageContext ctx, PrintStream out, int remotePrompts) throws Exception {
    StageContext forced =
        new StageContext(
            ctx.settings(),
            ctx.spark(),
            ctx.runDir(),
            true,
            new PrintStream(java.io.OutputStream.nullOutputStream()));
    GenerateStage.Resolved resolved = GenerateStage.resolve(ctx);
    if (resolved.spec() == null || !resolved.spec().local()) {
      throw new IllegalArgumentException(
          "bench generate needs a local model: " + resolved.problem());
    }
    GeneratorSpec spec = resolved.spec();
    SelfEditSettings se = ctx.settings().selfEdit();

    // Warm-up (loads the model into this JVM's executor cache), then the measured stage run.
    StageRunner stages = StageRunner.of(forced);
    stages.run(new SelfEditJob());
    long t0 = System.nanoTime();
    stages.run(new SelfEditJob());
    double stageSeconds = (System.nanoTime() - t0) / 1e9;
    Manifest m = ctx.runDir().manifest(Tables.SELF_EDITS).orElseThrow();
    long tokens = m.count("completion_tokens");
    double sparkSeconds = ((Number) m.get("generate_seconds")).doubleValue();

    // The bare loop: the same jobs in one thread, on the same cached decoder.
    List<BatchRunner.Job> jobs = new ArrayList<>();
    GenerateFunctions.Sampling sampling =
        new GenerateFunctions.Sampling(se.maxNewTokens(), se.temperature(), se.topP());
    for (Row r :
        ctx.spark()
            .read()
            .parquet(ctx.runDir().tableUri(Tables.ARTICLES))
            .select("article_id", "title", "context")
            .collectAsList()) {
      String prompt = se.prompts().render(se.promptKey(), r.getString(1), r.getString(2));
      for (int s = 0; s < se.k(); s++) {
        jobs.add(
            new BatchRunner.Job(
                r.getString(0) + "/" + s,
                prompt,
                sampling.seeded(
                    SelfEditJob.taskSeed(se.seed(), r.getString(0), se.promptKey(), s))));
      }
    }
    dev.editforge.spark.TaskResources.Binding binding = spec.bind();
    LoadedDecoder decoder =
        dev.editforge.spark.ExecutorModelCache.get(
            spec.decoderKey(binding),
            () -> DecoderLoader.load(Path.of(spec.modelDir()), binding.device(), spec.llm()));
    long bareTokens = 0;
    double bareSeconds;
    try (LocalGenerator generator = new LocalGenerator(decoder, spec.llm(), false)) {
      BatchRunner runner = new BatchRunner(generator, spec.chat(), spec.emptyRetries());
      long b0 = System.nanoTime();
      for (int i = 0; i < jobs.size(); i += spec.batchSize()) {
        runner.run(jobs.subList(i, Math.min(jobs.size(), i + spec.batchSize())));
      }
      bareSeconds = (System.nanoTime() - b0) / 1e9;
      bareTokens = runner.stats().completionTokens;
    }
    double remote =
        RemoteBench.promptsPerSecond(remotePrompts, ctx.settings().remote().maxConcurrency());
    Result result = new Result(tokens, sparkSeconds, stageSeconds, bareSeconds, bareTokens, remote);

    out.printf(
        Locale.ROOT,
        "bench generate: model %s, %d prompts (%d articles x k %d), max-new-tokens %d, batch-size %d, master %s%n",
        spec.modelName(),
        jobs.size(),
        jobs.size() / se.k(),
        se.k(),
        se.maxNewTokens(),
        spec.batchSize(),
        ctx.spark().sparkContext().master());
    out.printf(Locale.ROOT, "  %-34s %10s %10s %12s%n", "path", "tokens", "seconds", "tokens/s");
    out.printf(
        Locale.ROOT,
        "  %-34s %10d %10.2f %12.1f%n",
        "bare loop (one JVM, one thread)",
        bareTokens,
        bareSeconds,
        result.bareTokensPerSecond());
    out.printf(
        Locale.ROOT,
        "  %-34s %10d %10.2f %12.1f%n",
        "spark stage (generate_seconds)",
        tokens,
        sparkSeconds,
        result.sparkTokensPerSecond());
    out.printf(
        Locale.ROOT,
        "  %-34s %10d %10.2f %12.1f%n",
        "spark stage (whole, with I/O)",
        tokens,
        stageSeconds,
        tokens / stageSeconds);
    out.printf(Locale.ROOT, "  spark/bare tokens/s: %.3f (goal >= 0.85)%n", result.ratio());
    out.printf(
        Locale.ROOT,
        "  remote backend, instant loopback server, %d prompts, concurrency %d: %.0f prompts/s%n",
        remotePrompts,
        ctx.settings().remote().maxConcurrency(),
        remote);
    out.printf(
        Locale.ROOT,
        "BENCH generate spark_vs_bare=%.3f remote_prompts_per_s=%.1f%n",
        result.ratio(),
        remote);
    return result;
  }
}
