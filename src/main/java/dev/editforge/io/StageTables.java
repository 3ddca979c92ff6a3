package dev.editforge.io;

import java.util.Optional;

/**
 * The skip rule every stage shares: a table is up to date when its manifest completed (or was
 * itself skipped as up to date) with the same fingerprint. A skip rewrites the manifest's status to
 * {@code skipped} with {@code skip_reason: up-to-date}, as the console says.
 */
public final class StageTables {
  private StageTables() {}

  public static Optional<Manifest> upToDate(RunDir run, String table, String fingerprint) {
    Optional<Manifest> m = run.manifest(table);
    if (m.isEmpty()) {
      return Optional.empty();
    }
    Manifest manifest = m.get();
    boolean done =
        Manifest.COMPLETED.equals(manifest.status()) || Manifest.SKIPPED.equals(manifest.status());
    if (!done || !fingerprint.equals(manifest.fingerprint())) {
      return Optional.empty();
    }
    return Optional.of(manifest);
  }

  /** Marks an up-to-date table as skipped in its manifest and returns the manifest. */
  public static Manifest markSkipped(RunDir run, String table, Manifest manifest) {
    manifest.put("status", Manifest.SKIPPED);
    manifest.put("skip_reason", "up-to-date");
    manifest.put("skipped_at", java.time.Instant.now().toString());
    run.writeString(
        new org.apache.hadoop.fs.Path(run.table(table), RunDir.MANIFEST), manifest.toJson());
    return manifest;
  }

  /**
   * Checks that {@code table}'s files still match what its manifest recorded at commit ({@link
   * TableFiles#verify}); a table without a manifest has nothing to check.
   *
   * @throws UnusableInputException naming the table and the file that does not match
   */
  public static void verify(RunDir run, String table) {
    run.manifest(table).ifPresent(m -> verify(run, table, m));
  }

  static void verify(RunDir run, String table, Manifest m) {
    TableFiles.verify(
        run.fs(),
        run.table(table),
        m,
        "table " + table + " in " + run.root(),
        "rerun `" + Tables.producer(table) + "` with --force to rewrite it");
  }

  /**
   * The check every read of a run's table goes through: usable ({@link #isUsable}) and matching its
   * manifest ({@link #verify}). Returns the manifest.
   *
   * @throws UnusableInputException naming what is wrong, for {@code stage}
   */
  public static Manifest requireVerified(RunDir run, String table, String stage) {
    Manifest m = run.manifest(table).filter(StageTables::isUsable).orElse(null);
    if (m == null) {
      throw UnusableInputException.table(stage, run, table, Tables.producer(table));
    }
    verify(run, table, m);
    return m;
  }

  /** Readable by later stages: completed, or skipped because it already was. */
  public static boolean isUsable(RunDir run, String table) {
    return run.manifest(table).map(StageTables::isUsable).orElse(false);
  }

  private static boolean isUsable(Manifest m) {
    return Manifest.COMPLETED.equals(m.status()) || Manifest.SKIPPED.equals(m.status());
  }
}
