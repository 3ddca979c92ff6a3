package dev.editforge.finetune;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.UUID;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import org.apache.hadoop.conf.Configuration;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * Training checkpoints on any Hadoop file system (so a run on a cluster survives the loss of the
 * machine that trained): {@code <root>/step-00000010/}, each uploaded under a temporary name and
 * renamed when complete, with a {@code _COMPLETE} marker, so a kill mid-upload leaves nothing that
 * looks like a checkpoint. Training writes a checkpoint into a local directory first and hands it
 * to {@link #save}.
 */
public final class CheckpointStore {
  private static final Pattern NAME = Pattern.compile("step-(\\d{8})");
  private static final String COMPLETE = "_COMPLETE";

  private final Path root;
  private final FileSystem fs;

  public CheckpointStore(Path root, Configuration conf) {
    this.root = root;
    try {
      this.fs = root.getFileSystem(conf);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot open the file system of " + root, e);
    }
  }

  public Path root() {
    return root;
  }

  public static String name(int step) {
    return String.format(Locale.ROOT, "step-%08d", step);
  }

  public Path path(int step) {
    return new Path(root, name(step));
  }

  /** Steps of the complete checkpoints, ascending. */
  public List<Integer> steps() {
    List<Integer> out = new ArrayList<>();
    try {
      if (!fs.exists(root)) {
        return out;
      }
      for (FileStatus st : fs.listStatus(root)) {
        Matcher m = NAME.matcher(st.getPath().getName());
        if (st.isDirectory() && m.matches() && fs.exists(new Path(st.getPath(), COMPLETE))) {
          out.add(Integer.parseInt(m.group(1)));
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot list checkpoints in " + root, e);
    }
    out.sort(null);
    return out;
  }

  public Optional<Integer> latest() {
    List<Integer> s = steps();
    return s.isEmpty() ? Optional.empty() : Optional.of(s.get(s.size() - 1));
  }

  /** Uploads the local checkpoint directory as {@code step}'s checkpoint (replacing one of that step). */
  public void save(java.nio.file.Path local, int step) {
    Path tmp = new Path(root, "_tmp-" + name(step) + "-" + UUID.randomUUID());
    Path target = path(step);
    try {
      fs.mkdirs(root);
      fs.copyFromLocalFile(false, true, new Path(local.toUri()), tmp);
      fs.create(new Path(tmp, COMPLETE), true).close();
      if (fs.exists(target)) {
        fs.delete(target, true);
      }
      if (!fs.rename(tmp, target)) {
        throw new IOException("rename " + tmp + " -> " + target + " failed");
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot save checkpoint " + target, e);
    }
  }

  /** Downloads {@code step}'s checkpoint into {@code local} (which must not exist) and returns it. */
  public java.nio.file.Path fetch(int step, java.nio.file.Path local) {
    try {
      fs.copyToLocalFile(false, path(step), new Path(local.toUri()), true);
      return local;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot fetch checkpoint " + path(step), e);
    }
  }

  /** Deletes every checkpoint but {@code keep}'s. */
  public void retain(java.util.Collection<Integer> keep) {
    for (int s : steps()) {
      if (!keep.contains(s)) {
        try {
          fs.delete(path(s), true);
        } catch (IOException e) {
          throw new UncheckedIOException("cannot delete checkpoint " + path(s), e);
        }
      }
    }
  }

  /** Removes the whole store (after the stage committed its outputs). */
  public void deleteAll() {
    try {
      fs.delete(root, true);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + root, e);
    }
  }
}
