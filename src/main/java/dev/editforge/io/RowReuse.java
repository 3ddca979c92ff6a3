package dev.editforge.io;

import java.util.Collection;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.functions;
import org.apache.spark.sql.types.StructType;

/**
 * Row-level reuse between the previous committed version of a table and a stage's new input (issue
 * 18): rows whose content key is in both are copied from the previous table, keys only in the input
 * are computed, keys only in the previous table are removed. The manifest counts the three as
 * {@code reused}, {@code computed} and {@code removed}.
 *
 * <p>A row's content key has two parts. The per-row part is a column both sides carry (e.g. {@code
 * passage_id}, itself a SHA-256 of the passage's content). The part shared by every row, the {@link
 * #scope} (config section, model fingerprint, code version), is stored in the manifest as {@value
 * #SCOPE}: a previous table written under another scope has nothing reusable ({@link #previous}).
 *
 * <p>The previous table stays readable while the new one is written: the runner stages into {@code
 * _staging/} and only {@link RunDir#commit} replaces it, after the writer has returned. Stateless
 * and thread-safe.
 */
public final class RowReuse {
  /** Manifest field: the shared part of every row's content key. */
  public static final String SCOPE = "row_key_scope";

  public static final String REUSED = "reused";
  public static final String COMPUTED = "computed";
  public static final String REMOVED = "removed";

  private RowReuse() {}

  /** How a rerun split its rows. */
  public record Counts(long reused, long computed, long removed) {
    /** Puts the three counts into {@code m} and returns it. */
    public Manifest record(Manifest m) {
      return m.count(REUSED, reused).count(COMPUTED, computed).count(REMOVED, removed);
    }
  }

  /** The split of keys, each set in its input's iteration order. */
  public record Split<K>(Set<K> reuse, Set<K> compute, Set<K> remove) {
    public Counts counts() {
      return new Counts(reuse.size(), compute.size(), remove.size());
    }
  }

  /** Keys of the previous table vs keys of the new input, for stages that hold keys in memory. */
  public static <K> Split<K> split(Collection<K> previous, Collection<K> input) {
    Set<K> before = new LinkedHashSet<>(previous);
    Set<K> now = new LinkedHashSet<>(input);
    Set<K> reuse = new LinkedHashSet<>();
    Set<K> compute = new LinkedHashSet<>();
    for (K k : now) {
      (before.contains(k) ? reuse : compute).add(k);
    }
    Set<K> remove = new LinkedHashSet<>();
    for (K k : before) {
      if (!now.contains(k)) {
        remove.add(k);
      }
    }
    return new Split<>(reuse, compute, remove);
  }

  /**
   * The shared part of a content key: a hash of everything besides the row that decides its value
   * (e.g. {@code "embed"}, the config section's hash, the model's fingerprint, the code version).
   */
  public static String scope(String... parts) {
    String[] all = new String[parts.length + 1];
    all[0] = "row-key-scope";
    System.arraycopy(parts, 0, all, 1, parts.length);
    return Ids.of(all);
  }

  /**
   * The manifest of {@code table}'s previous version when its rows may be reused under {@code
   * scope}: committed (completed or skipped as up to date), written under the same scope, and its
   * files still as the manifest lists them. Empty otherwise (then everything is computed).
   */
  public static Optional<Manifest> previous(RunDir run, String table, String scope) {
    Optional<Manifest> m = run.manifest(table);
    if (m.isEmpty()) {
      return Optional.empty();
    }
    Manifest manifest = m.get();
    boolean committed =
        Manifest.COMPLETED.equals(manifest.status()) || Manifest.SKIPPED.equals(manifest.status());
    if (!committed || !scope.equals(manifest.get(SCOPE))) {
      return Optional.empty();
    }
    try {
      StageTables.verify(run, table, manifest);
    } catch (UnusableInputException e) {
      // A damaged previous table is no error here: it is simply not reused.
      return Optional.empty();
    }
    return m;
  }

  /**
   * The Spark form of {@link #split}: {@code reused} holds the previous table's rows whose key is
   * in the input, {@code toCompute} the input rows whose key is not in the previous table, {@code
   * removed} the previous keys no longer in the input (a single column), {@code keys} every key
   * with whether the previous table ({@code _previous}) and the input ({@code _input}) hold it
   * (true or null). All lazy.
   */
  public record Plan(
      Dataset<Row> reused, Dataset<Row> toCompute, Dataset<Row> removed, Dataset<Row> keys) {
    /** Counts the three in one Spark job over the keys alone. */
    public Counts counts() {
      Row c =
          keys.agg(
                  functions.sum(
                      functions
                          .when(functions.col("_previous").and(functions.col("_input")), 1L)
                          .otherwise(0L)),
                  functions.sum(
                      functions.when(functions.col("_previous").isNull(), 1L).otherwise(0L)),
                  functions.sum(functions.when(functions.col("_input").isNull(), 1L).otherwise(0L)))
              .first();
      return new Counts(
          c.isNullAt(0) ? 0 : c.getLong(0),
          c.isNullAt(1) ? 0 : c.getLong(1),
          c.isNullAt(2) ? 0 : c.getLong(2));
    }
  }

  /**
   * Splits {@code input} against {@code previous} on the column {@code key}, which both carry. Keys
   * are assumed unique on each side (they are content keys).
   */
  public static Plan plan(Dataset<Row> previous, Dataset<Row> input, String key) {
    Dataset<Row> inputKeys = input.select(functions.col(key));
    Dataset<Row> previousKeys = previous.select(functions.col(key));
    return new Plan(
        previous.join(inputKeys, key, "left_semi"),
        input.join(previousKeys, key, "left_anti"),
        previousKeys.join(inputKeys, key, "left_anti"),
        previousKeys
            .withColumn("_previous", functions.lit(true))
            .join(inputKeys.withColumn("_input", functions.lit(true)), key, "full_outer"));
  }

  /**
   * The plan when nothing is reusable (no previous table, another scope, {@code --force}): every
   * input row is computed, nothing is reused or counted as removed.
   *
   * @param previousSchema the schema {@code reused} rows would have
   */
  public static Plan none(Dataset<Row> input, String key, StructType previousSchema) {
    return new Plan(
        input.sparkSession().createDataFrame(List.<Row>of(), previousSchema),
        input,
        input.select(functions.col(key)).limit(0),
        input
            .select(functions.col(key))
            .withColumn("_previous", functions.lit(null).cast("boolean"))
            .withColumn("_input", functions.lit(true)));
  }
}
