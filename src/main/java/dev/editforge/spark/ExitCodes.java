package dev.editforge.spark;

/** editforge's exit codes, the contract with Airflow and shell scripts. */
public final class ExitCodes {
  public static final int OK = 0;

  /** An unexpected failure (a bug, a lost executor, a full disk): see the log. */
  public static final int FAILURE = 1;

  /** Bad usage, a bad setting, or an input that is missing or not its declared format. */
  public static final int USAGE = 2;

  /** The work ran but a quality threshold failed (e.g. too many rejected records). */
  public static final int QUALITY = 3;

  private ExitCodes() {}
}
