package dev.editforge.spark;

import dev.editforge.io.Manifest;
import dev.editforge.io.RunDir;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Objects;
import java.util.function.Consumer;
import java.util.function.Predicate;
import org.apache.hadoop.fs.Path;

/**
 * One output of a stage — a table or a directory under the run directory — as the {@link
 * StageRunner} needs it: what its fingerprint is made of, when an up-to-date copy may be reused,
 * and how to write it. The writer only computes: it writes into the staging path it is given and
 * fills the manifest's counts; the runner skips, stages, commits, records and reports.
 *
 * <p>Immutable; the {@code with*} methods return copies.
 */
public final class StageOutput {
  /** Writes the output into {@link Staged#path()} and fills {@link Staged#manifest()}. */
  @FunctionalInterface
  public interface Writer {
    void write(Staged out) throws Exception;
  }

  private final String table;
  private final String fingerprintName;
  private final String configHash;
  private final List<String> inputs;
  private final Predicate<Manifest> reusable;
  private final Writer writer;
  private final String skipSummary;
  private final Consumer<Manifest> onReuse;

  private StageOutput(
      String table,
      String fingerprintName,
      String configHash,
      List<String> inputs,
      Predicate<Manifest> reusable,
      Writer writer,
      String skipSummary,
      Consumer<Manifest> onReuse) {
    this.table = Objects.requireNonNull(table);
    this.fingerprintName = fingerprintName;
    this.configHash = Objects.requireNonNull(configHash);
    this.inputs = List.copyOf(inputs);
    this.reusable = Objects.requireNonNull(reusable);
    this.writer = Objects.requireNonNull(writer);
    this.skipSummary = skipSummary;
    this.onReuse = Objects.requireNonNull(onReuse);
  }

  /**
   * @param table the output's name under the run directory
   * @param configHash the hash of the settings that change what is written
   * @param inputs fingerprints of everything else it is computed from (upstream tables, files,
   *     models)
   */
  public static StageOutput of(
      String table, String configHash, List<String> inputs, Writer writer) {
    return new StageOutput(table, null, configHash, inputs, m -> true, writer, null, m -> {});
  }

  /**
   * The name the fingerprint is keyed by when it is not the stage's (e.g. {@code
   * generate:self-edits}).
   */
  public StageOutput withFingerprintName(String name) {
    return new StageOutput(table, name, configHash, inputs, reusable, writer, skipSummary, onReuse);
  }

  /** An extra condition for reusing an up-to-date output (e.g. the last run left no error rows). */
  public StageOutput reusableWhen(Predicate<Manifest> condition) {
    return new StageOutput(
        table, fingerprintName, configHash, inputs, condition, writer, skipSummary, onReuse);
  }

  /**
   * The console line when the output is skipped as up to date, for a stage whose line has always
   * read differently from the default (scripts and docs match on it).
   */
  public StageOutput withSkipSummary(String line) {
    return new StageOutput(
        table, fingerprintName, configHash, inputs, reusable, writer, line, onReuse);
  }

  /**
   * What to do when an up-to-date output is reused instead of rewritten, e.g. restore files derived
   * from it outside its directory (select's exports) that were deleted since.
   */
  public StageOutput whenReused(Consumer<Manifest> action) {
    return new StageOutput(
        table, fingerprintName, configHash, inputs, reusable, writer, skipSummary, action);
  }

  public String table() {
    return table;
  }

  public String configHash() {
    return configHash;
  }

  public List<String> inputs() {
    return inputs;
  }

  String fingerprintName(String stage) {
    return fingerprintName != null ? fingerprintName : stage;
  }

  boolean reusable(Manifest m) {
    return reusable.test(m);
  }

  Writer writer() {
    return writer;
  }

  /**
   * The console line when the output is skipped: {@link #withSkipSummary}'s, else table, rows and
   * place.
   */
  String skipSummary(String stage, Manifest skipped, RunDir run) {
    return skipSummary != null
        ? skipSummary
        : stage
            + ": "
            + table
            + " skipped: up-to-date ("
            + skipped.count("output")
            + " rows in "
            + run.table(table)
            + ")";
  }

  void reused(Manifest m) {
    onReuse.accept(m);
  }

  /** The default console line after a commit: the table, its status, rows and place. */
  String defaultSummary(String stage, Manifest m, RunDir run) {
    return String.format(
        Locale.ROOT,
        "%s: %s %s: %,d rows -> %s",
        stage,
        table,
        m.status(),
        m.count("output"),
        run.table(table));
  }

  /**
   * What a writer works with: the context, the staging directory (absent until the writer creates
   * it; Spark writers create it themselves), the manifest to fill, and actions to run once the
   * output is committed (e.g. deleting the work parts it was assembled from).
   */
  public static final class Staged {
    private final StageContext context;
    private final Path path;
    private final Manifest manifest;
    private final List<Runnable> afterCommit = new ArrayList<>();
    private String summary;

    Staged(StageContext context, Path path, Manifest manifest) {
      this.context = context;
      this.path = path;
      this.manifest = manifest;
    }

    public StageContext context() {
      return context;
    }

    public Path path() {
      return path;
    }

    public String uri() {
      return path.toString();
    }

    /** Where this output's rejected records go: {@code <output>/_rejects}. */
    public String rejectsUri() {
      return new Path(path, RunDir.REJECTS).toString();
    }

    public Manifest manifest() {
      return manifest;
    }

    /**
     * Marks the output failed on a quality threshold: it is still committed (rejects and manifest
     * stay inspectable), no later stage reads it, and the stage exits 3 with {@code why}.
     */
    public void fail(String why) {
      manifest.put("failure", why);
      manifest.finish(Manifest.FAILED);
    }

    /** The one console line printed once the output is committed (default: table, rows, place). */
    public void summary(String line) {
      this.summary = line;
    }

    String summary() {
      return summary;
    }

    public void afterCommit(Runnable action) {
      afterCommit.add(action);
    }

    List<Runnable> afterCommitActions() {
      return afterCommit;
    }
  }
}
