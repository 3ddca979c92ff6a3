package dev.editforge.spark;

import dev.editforge.config.RunSettings;
import dev.editforge.io.Fingerprints;
import dev.editforge.io.Manifest;
import dev.editforge.io.RunDir;
import dev.editforge.io.StageTables;
import dev.editforge.io.TableFiles;
import dev.editforge.io.TableLock;
import dev.editforge.io.Tables;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import org.apache.hadoop.fs.Path;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The skeleton every stage runs on, written once: check the stage's input tables (completed, and
 * their files as their manifests list them), plan, and for each output take the table's lock,
 * compute its fingerprint (stage, code version, config hash, inputs), skip it when up to date
 * (unless --force), otherwise let the stage write it into {@code _staging/}, check the counts
 * ({@code input = accepted + rejected + duplicates}), record its files and write the manifest,
 * commit by rename, report one line, and record the outcome in the run record. A quality failure (a
 * manifest marked {@code failed}) makes the stage exit {@link ExitCodes#QUALITY}; a thrown
 * exception leaves no staging behind and propagates to the CLI's exit-code mapping.
 *
 * <p>Not thread-safe: one runner per command invocation, used from the driver thread.
 */
public final class StageRunner {
  private static final Logger LOG = LoggerFactory.getLogger(StageRunner.class);

  /** Manifest and run-record field: the staging and trash paths removed before the write. */
  public static final String LEFTOVERS_REMOVED = "leftovers_removed";

  private final StageContext context;
  private final RunRecord record;

  public StageRunner(StageContext context, RunRecord record) {
    this.context = context;
    this.record = record;
  }

  /** A runner outside a command (benches, tests): its run record is never written. */
  public static StageRunner of(StageContext context) {
    return new StageRunner(context, new RunRecord("-", context.settings()));
  }

  public StageContext context() {
    return context;
  }

  public RunRecord record() {
    return record;
  }

  /** Tables among {@code stage.requires()} that no stage has written yet. */
  public List<String> absentInputs(PipelineStage stage) {
    return stage.requires().stream().filter(t -> context.runDir().manifest(t).isEmpty()).toList();
  }

  /**
   * Runs {@code stage} on its own (a stage command, a scheduled task), records its outcome, and
   * returns it. Nothing to read (a required table absent, whether in {@link PipelineStage#requires}
   * or found by the plan: an {@link dev.editforge.io.UnusableInputException} naming an absent
   * table) or nothing configured (an empty plan) is exit 2 here: a schedule that passes no inputs
   * must fail, not finish green having done nothing. The stage object is the same one a pipeline
   * runs; only this runner method decides between failing and passing over.
   */
  public StageOutcome run(PipelineStage stage) throws Exception {
    StageOutcome outcome = outcome(stage, false);
    record.add(outcome);
    return outcome;
  }

  /**
   * Runs {@code stage} as one step of a pipeline ({@code run}, {@code demo}, {@code iterate}):
   * nothing to do (an empty plan, a required table absent, or a plan refusing an absent table) is
   * exit 0 with its note, since an optional earlier step (reasoning without problems, retrieve
   * without queries) may simply not be configured. The pipeline itself decides whether having done
   * nothing at all is an error ({@link StageOutcome#hasOutputs()}).
   */
  public StageOutcome runInPipeline(PipelineStage stage) throws Exception {
    StageOutcome outcome = outcome(stage, true);
    record.add(outcome);
    return outcome;
  }

  private StageOutcome outcome(PipelineStage stage, boolean inPipeline) throws Exception {
    RunDir run = context.runDir();
    List<String> absent = absentInputs(stage);
    if (!absent.isEmpty()) {
      String why = absentMessage(absent.get(0));
      return inPipeline
          ? StageOutcome.nothingToDo(stage.name(), why)
          : StageOutcome.notConfigured(stage.name(), why);
    }
    for (String t : stage.requires()) {
      StageTables.requireVerified(run, t, stage.name());
    }
    StagePlan plan;
    try {
      plan = stage.plan(context);
    } catch (dev.editforge.io.UnusableInputException e) {
      // A table the stage reads only as configured (the run's sft unless finetune.sft names one)
      // is found absent while planning: the same rule as requires(), one place for both.
      if (!inPipeline || e.absentTable() == null) {
        throw e;
      }
      return StageOutcome.nothingToDo(stage.name(), e.getMessage());
    }
    if (plan.isNothingToDo()) {
      String why = String.join("; ", plan.notes());
      return inPipeline
          ? StageOutcome.nothingToDo(stage.name(), why)
          : StageOutcome.notConfigured(stage.name(), why);
    }
    for (String note : plan.notes()) {
      context.say(stage.name() + ": " + note);
    }
    List<Manifest> manifests = new ArrayList<>();
    List<String> failures = new ArrayList<>();
    for (StageOutput output : plan.outputs()) {
      Manifest m = produce(stage.name(), output);
      manifests.add(m);
      if (Manifest.FAILED.equals(m.status())) {
        failures.add(String.valueOf(m.get("failure")));
      }
    }
    return failures.isEmpty()
        ? StageOutcome.ok(stage.name(), manifests)
        : new StageOutcome(stage.name(), manifests, ExitCodes.QUALITY, String.join("\n", failures));
  }

  private String absentMessage(String table) {
    return "no "
        + table
        + " table in "
        + context.runDir().root()
        + " (run `"
        + Tables.producer(table)
        + "` first)";
  }

  /**
   * What {@code --dry-run} says of one stage: its exit code (0, or 2 naming the problem) and the
   * tables it would write or keep, which later stages of the same dry run may count as present.
   */
  public record Planned(
      String stage, int exitCode, String message, List<String> tables, boolean writes) {
    static Planned ok(String stage, String message) {
      return new Planned(stage, ExitCodes.OK, message, List.of(), false);
    }

    static Planned usage(String stage, String message) {
      return new Planned(stage, ExitCodes.USAGE, message, List.of(), false);
    }
  }

  /**
   * Plans {@code stage} the way {@link #run} would and prints the plan — its notes, and for each
   * output its inputs and whether it is up to date by the same fingerprint rule — without taking a
   * lock, writing a manifest, marking a skip, running a Spark job or recording the run. The
   * configured model is checked too ({@link ModelCheck}), without downloading it.
   *
   * @param comingEarlier tables that earlier stages of the same dry run would write: an absent
   *     required table among them is not an error, the stage is then shown as waiting for it
   * @param inPipeline as in {@link #runInPipeline}: an empty plan is exit 0 rather than 2
   * @param writesEarlier whether an earlier stage of the same dry run would write a table: then an
   *     input this stage cannot find yet is no error (the stage is shown waiting for the stages
   *     above), and what looks up to date now may be rewritten once they have run
   */
  public Planned dryRun(
      PipelineStage stage,
      java.util.Set<String> comingEarlier,
      boolean inPipeline,
      boolean writesEarlier)
      throws Exception {
    RunDir run = context.runDir();
    String name = stage.name();
    // On its own a stage's model is checked first (the command names it); in a pipeline only a
    // stage that will run has its model checked (score is passed over without self-edits).
    if (!inPipeline) {
      ModelCheck.requireLoadable(name, context.settings(), context.hadoopConf().get());
    }
    List<String> absent = absentInputs(stage);
    if (!absent.isEmpty()) {
      List<String> notComing = absent.stream().filter(t -> !comingEarlier.contains(t)).toList();
      if (notComing.isEmpty() || writesEarlier) {
        return Planned.ok(
            name,
            name
                + ": to run after the stages above"
                + (notComing.isEmpty() ? " write " : ", if they write ")
                + String.join(", ", absent));
      }
      String why = absentMessage(notComing.get(0));
      // On its own the stage waits for its upstream task (a scheduler dry-runs every task before
      // any has run): only a real run refuses the absent table (exit 2).
      return inPipeline
          ? Planned.ok(name, name + ": passed over: " + why)
          : Planned.ok(name, name + ": waits for its input: " + why);
    }
    StagePlan plan;
    try {
      for (String t : stage.requires()) {
        StageTables.requireVerified(run, t, name);
      }
      plan = stage.plan(context);
    } catch (dev.editforge.io.UnusableInputException e) {
      if (!writesEarlier && e.absentTable() == null) {
        throw e;
      }
      // Its input is what an earlier stage of this run is about to write (e.g. index reads the
      // embeddings embed will write), or on its own what its upstream task has not written yet:
      // checked when the stage runs.
      return Planned.ok(
          name,
          writesEarlier
              ? name + ": to run after the stages above (now: " + e.getMessage() + ")"
              : inPipeline
                  ? name + ": passed over: " + e.getMessage()
                  : name + ": waits for its input: " + e.getMessage());
    }
    if (plan.isNothingToDo()) {
      String why = String.join("; ", plan.notes());
      if (writesEarlier) {
        why = why + " (rechecked after the stages above)";
      }
      return inPipeline
          ? Planned.ok(name, name + ": nothing to do: " + why)
          : Planned.usage(name, name + ": " + why);
    }
    // In a pipeline only a stage that will run has its model checked: one whose inputs are absent
    // (in requires() or found by its plan) or that has nothing to do was passed over above.
    if (inPipeline) {
      ModelCheck.requireLoadable(name, context.settings(), context.hadoopConf().get());
    }
    for (String note : plan.notes()) {
      context.say(name + ": " + note);
    }
    List<String> tables = new ArrayList<>();
    boolean writes = false;
    for (StageOutput output : plan.outputs()) {
      String fingerprint = fingerprint(name, output);
      boolean upToDate =
          !context.force()
              && StageTables.upToDate(run, output.table(), fingerprint)
                  .filter(output::reusable)
                  .isPresent();
      writes |= !upToDate;
      String state =
          upToDate
              ? (writesEarlier ? "up to date now (rechecked after the stages above)" : "up to date")
              : run.manifest(output.table()).isPresent()
                  ? (context.force() ? "to rewrite (--force)" : "to rewrite (out of date)")
                  : "to write";
      context.say(name + ": " + output.table() + ": " + state + " -> " + run.table(output.table()));
      for (String input : output.inputs()) {
        context.say("  input " + input);
      }
      tables.add(output.table());
    }
    return new Planned(name, ExitCodes.OK, null, tables, writes);
  }

  /**
   * The fingerprint an output's manifest carries; equal fingerprints mean the output is up to date.
   */
  public String fingerprint(String stage, StageOutput output) {
    return Fingerprints.combine(
        output.fingerprintName(stage),
        context.settings().codeVersion(),
        output.configHash(),
        output.inputs());
  }

  /**
   * Writes (or skips as up to date) one output of {@code stage}; returns its manifest. The table's
   * lock is held throughout, so a concurrent writer of the same table fails at once (exit 2), and
   * what killed writers of the table left in {@code _staging/} and {@code _trash/} is removed first
   * and noted in the run record and the manifest.
   */
  public Manifest produce(String stage, StageOutput output) throws Exception {
    RunDir run = context.runDir();
    String table = output.table();
    try (TableLock lock =
        TableLock.acquire(
            run,
            table,
            record.command() + " (" + stage + ")",
            RunSettings.of(context.settings()).lockTimeout(),
            context.breakLock())) {
      List<String> removed = run.removeLeftovers(table);
      if (!removed.isEmpty()) {
        LOG.info("{}: removed what killed writers of {} left: {}", stage, table, removed);
        record.removedLeftovers(stage, table, removed);
      }
      return produceLocked(stage, output, removed);
    }
  }

  private Manifest produceLocked(String stage, StageOutput output, List<String> removed)
      throws Exception {
    RunDir run = context.runDir();
    String table = output.table();
    String fingerprint = fingerprint(stage, output);
    if (!context.force()) {
      var upToDate = StageTables.upToDate(run, table, fingerprint).filter(output::reusable);
      if (upToDate.isPresent()) {
        Manifest skipped = StageTables.markSkipped(run, table, upToDate.get());
        context.say(output.skipSummary(stage, skipped, run));
        output.reused(skipped);
        return skipped;
      }
    }
    Manifest manifest =
        Manifest.start(
            stage, table, output.configHash(), context.settings().codeVersion(), fingerprint);
    if (!removed.isEmpty()) {
      manifest.put(LEFTOVERS_REMOVED, removed);
    }
    Path staging = run.newStaging(table);
    StageOutput.Staged staged = new StageOutput.Staged(context, staging, manifest);
    long t0 = System.nanoTime();
    // Every Spark job of the write is labelled with its stage unless the stage names its own: the
    // progress lines and the event log (which stage ran in which resource profile) say whose it is.
    if (context.spark() != null) {
      context.spark().sparkContext().setJobDescription(stage + " " + table);
    }
    try {
      output.writer().write(staged);
      if (!Manifest.FAILED.equals(manifest.status())) {
        checkCounts(stage, table, manifest);
        manifest.finish(Manifest.COMPLETED);
      }
      TableFiles.record(run.fs(), staging, manifest);
      manifest.put("seconds", (System.nanoTime() - t0) / 1e9);
      run.writeString(new Path(staging, RunDir.MANIFEST), manifest.toJson());
      run.commit(staging, table);
    } catch (Exception | Error e) {
      deleteQuietly(run, staging);
      throw e;
    } finally {
      if (context.spark() != null) {
        context.spark().sparkContext().setJobDescription(null);
      }
    }
    for (Runnable action : staged.afterCommitActions()) {
      action.run();
    }
    context.say(
        staged.summary() != null ? staged.summary() : output.defaultSummary(stage, manifest, run));
    return manifest;
  }

  /** Nothing is dropped silently: every input record is accepted, rejected or a duplicate. */
  static void checkCounts(String stage, String table, Manifest m) {
    Map<String, Number> c = m.counts();
    if (c.containsKey("input") && c.containsKey("accepted") && c.containsKey("rejected")) {
      long sum = m.count("accepted") + m.count("rejected") + m.count("duplicates");
      if (sum != m.count("input")) {
        throw new IllegalStateException(
            stage
                + ": "
                + table
                + ": input "
                + m.count("input")
                + " != accepted + rejected + duplicates "
                + sum
                + " ("
                + c
                + "); nothing was committed");
      }
    }
  }

  private static void deleteQuietly(RunDir run, Path staging) {
    try {
      run.delete(staging);
    } catch (RuntimeException e) {
      LOG.warn("could not remove staging directory {}", staging, e);
    }
  }
}
