package dev.editforge.finetune;

import dev.editforge.io.WorkParts;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.Path;

/**
 * Training checkpoints on any Hadoop file system (so a run on a cluster survives the loss of the
 * machine that trained): {@code <root>/step-00000010/}, each a {@link WorkParts} part (uploaded
 * under a temporary name, renamed, then marked {@code _COMMITTED}), so a kill mid-upload leaves
 * nothing that counts as a checkpoint. Training writes a checkpoint into a local directory first
 * and hands it to {@link #save}.
 */
public final class CheckpointStore {
  private static final String PREFIX = "step-";
  private static final Pattern NAME = Pattern.compile("step-(\\d{8})");

  private final WorkParts parts;
  private final Configuration conf;

  public CheckpointStore(Path root, Configuration conf) {
    this.parts = new WorkParts(root, conf);
    this.conf = conf;
  }

  public Path root() {
    return parts.dir();
  }

  public static String name(int step) {
    return String.format(Locale.ROOT, PREFIX + "%08d", step);
  }

  public Path path(int step) {
    return new Path(parts.dir(), name(step));
  }

  /** Steps of the committed checkpoints, ascending. */
  public List<Integer> steps() {
    List<Integer> out = new ArrayList<>();
    for (Path p : parts.committed(PREFIX)) {
      Matcher m = NAME.matcher(p.getName());
      if (m.matches()) {
        out.add(Integer.parseInt(m.group(1)));
      }
    }
    out.sort(null);
    return out;
  }

  public Optional<Integer> latest() {
    List<Integer> s = steps();
    return s.isEmpty() ? Optional.empty() : Optional.of(s.get(s.size() - 1));
  }

  /**
   * Removes what a killed upload left (temporary or unmarked directories); call before resuming.
   */
  public int discardUncommitted() {
    return parts.discardUncommitted();
  }

  /**
   * Uploads the local checkpoint directory as {@code step}'s checkpoint (replacing one of that
   * step).
   */
  public void save(java.nio.file.Path local, int step) {
    parts.commitLocal(local, name(step), "step " + step + "\n");
  }

  /**
   * Downloads {@code step}'s checkpoint into {@code local} (which must not exist) and returns it.
   */
  public java.nio.file.Path fetch(int step, java.nio.file.Path local) {
    try {
      path(step)
          .getFileSystem(conf)
          .copyToLocalFile(false, path(step), new Path(local.toUri()), true);
      return local;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot fetch checkpoint " + path(step), e);
    }
  }

  /** Deletes every checkpoint but {@code keep}'s. */
  public void retain(Collection<Integer> keep) {
    for (int s : steps()) {
      if (!keep.contains(s)) {
        try {
          path(s).getFileSystem(conf).delete(path(s), true);
        } catch (IOException e) {
          throw new UncheckedIOException("cannot delete checkpoint " + path(s), e);
        }
      }
    }
  }

  /** Removes the whole store (after the stage committed its outputs). */
  public void deleteAll() {
    parts.deleteAll();
  }
}
