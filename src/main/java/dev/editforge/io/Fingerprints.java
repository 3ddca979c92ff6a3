package dev.editforge.io;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigValue;
import dev.editforge.text.Json;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.security.MessageDigest;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.apache.hadoop.fs.FileStatus;
import org.apache.hadoop.fs.FileSystem;
import org.apache.hadoop.fs.Path;

/**
 * What decides whether a stage is up to date: its config section's hash, the code version, and a
 * fingerprint of each input. Small files (up to {@link #HASH_LIMIT}) are hashed by content, so
 * re-extracting the same sample counts as unchanged; larger files by path, length and modification
 * time, so a 13 GB input is not read just to decide to skip it.
 */
public final class Fingerprints {
  public static final long HASH_LIMIT = 64L << 20;

  private Fingerprints() {}

  public static String configHash(Config section) {
    Map<String, Object> flat = new TreeMap<>();
    for (Map.Entry<String, ConfigValue> e : section.entrySet()) {
      flat.put(e.getKey(), e.getValue().unwrapped());
    }
    return Ids.of(Json.compact(flat));
  }

  public static String ofFile(FileSystem fs, Path path) {
    try {
      FileStatus st = fs.getFileStatus(path);
      if (st.getLen() <= HASH_LIMIT) {
        MessageDigest md = Ids.sha256();
        byte[] buf = new byte[1 << 16];
        try (InputStream in = fs.open(path)) {
          int n;
          while ((n = in.read(buf)) > 0) {
            md.update(buf, 0, n);
          }
        }
        return "sha256:" + Ids.hex(md.digest(), 32);
      }
      return "stat:" + st.getPath() + ":" + st.getLen() + ":" + st.getModificationTime();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot fingerprint " + path, e);
    }
  }

  /**
   * A model's fingerprint: for a local directory, its files' (relative name, {@link #ofFile}), so
   * the same weights in another directory fingerprint alike; for a hub id or remote path, the id.
   */
  public static String ofModel(String ref) {
    java.nio.file.Path dir = java.nio.file.Path.of(ref);
    if (ref.contains("://") || !java.nio.file.Files.isDirectory(dir)) {
      return Ids.of("model", ref);
    }
    try {
      FileSystem fs = FileSystem.getLocal(new org.apache.hadoop.conf.Configuration());
      List<String> parts = new ArrayList<>();
      try (var files = java.nio.file.Files.walk(dir)) {
        for (java.nio.file.Path f :
            files.filter(java.nio.file.Files::isRegularFile).sorted().toList()) {
          parts.add(dir.relativize(f) + "=" + ofFile(fs, new Path(f.toUri())));
        }
      }
      return Ids.of(parts.toArray(new String[0]));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot fingerprint model " + ref, e);
    }
  }

  /**
   * An upstream table: its manifest's fingerprint and end time (changes whenever it is rewritten).
   * The manifest stands for the files only while they still match it, so they are checked here
   * ({@link StageTables#verify}): every stage fingerprints each table it reads while planning, so
   * this is where a deleted or truncated file is caught before any work.
   *
   * @throws UnusableInputException naming the table and the file that does not match
   */
  public static String ofTable(RunDir run, String table) {
    return run.manifest(table)
        .map(
            m -> {
              StageTables.verify(run, table, m);
              return "table:" + table + ":" + m.fingerprint() + ":" + m.get("ended_at");
            })
        .orElse("table:" + table + ":absent");
  }

  public static String combine(
      String stage, String codeVersion, String configHash, List<String> inputs) {
    List<String> parts = new ArrayList<>();
    parts.add(stage);
    parts.add(codeVersion);
    parts.add(configHash);
    parts.addAll(inputs);
    return Ids.of(parts.toArray(new String[0]));
  }
}
