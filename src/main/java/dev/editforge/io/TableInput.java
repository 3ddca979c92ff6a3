package dev.editforge.io;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * A table a stage reads that may live outside its run (a setting such as {@code
 * editforge.evaluate.articles} pointing at another run's table or any Parquet directory), with the
 * fingerprint that decides whether the stage is up to date.
 */
public record TableInput(String uri, String fingerprint) {
  /**
   * {@code location} when it is set, else the run's own {@code table}. A table with a manifest
   * (another run's, e.g. iterate's held-out articles) is fingerprinted by that manifest's
   * fingerprint and end time: a skip that rewrote the manifest changes neither. A bare directory by
   * its size and modification time. A table with a manifest is checked against it first ({@link
   * TableFiles#verify}; the run's own through {@link Fingerprints#ofTable}).
   *
   * @param setting the key {@code location} came from, for the message when it does not exist
   */
  public static TableInput resolve(
      RunDir run, String location, String setting, String table, String stage) throws IOException {
    if (location.isBlank()) {
      if (!StageTables.isUsable(run, table)) {
        throw UnusableInputException.table(stage, run, table, Tables.producer(table));
      }
      return new TableInput(run.tableUri(table), Fingerprints.ofTable(run, table));
    }
    Path p = RunDir.qualify(location);
    FileSystem fs = p.getFileSystem(run.fs().getConf());
    if (!fs.exists(p)) {
      throw new UnusableInputException(table + " table " + p + " (" + setting + ") does not exist");
    }
    Path manifest = new Path(p, RunDir.MANIFEST);
    String prefix = table + ":" + p + ":";
    if (fs.exists(manifest)) {
      Manifest m;
      try (InputStream in = fs.open(manifest)) {
        m = Manifest.parse(new String(in.readAllBytes(), StandardCharsets.UTF_8));
      }
      TableFiles.verify(
          fs,
          p,
          m,
          table + " table " + p + " (" + setting + ")",
          "rewrite it, or point " + setting + " at a complete table");
      return new TableInput(p.toString(), prefix + m.fingerprint() + ":" + m.get("ended_at"));
    }
    return new TableInput(
        p.toString(),
        prefix
            + fs.getContentSummary(p).getLength()
            + ":"
            + fs.getFileStatus(p).getModificationTime());
  }
}
