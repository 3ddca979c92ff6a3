package dev.editforge.config;

import java.io.IOException;
import java.io.InputStream;
import java.util.Properties;

/**
 * The code version written into manifests and stage fingerprints: the Maven version plus the first
 * 12 hex of {@link CodeDigest} ({@code 0.1.0-SNAPSHOT+3fa2b9c01d4e}), so a rebuild with changed
 * code reruns stages and an identical rebuild skips them. The git commit and dirty flag recorded at
 * build time are shown beside it but are not part of it: a commit that only touches docs must not
 * rerun anything, and uncommitted edits must.
 */
public final class BuildInfo {
  private static final Properties PROPS = load();
  private static final String VERSION =
      property("version", "dev") + "+" + shortDigest(CodeDigest.current());

  private BuildInfo() {}

  public static String version() {
    return VERSION;
  }

  /** SHA-256 (64 hex) of the running application classes, or {@code unknown}. */
  public static String codeDigest() {
    return CodeDigest.current();
  }

  /** The git commit the build came from, or {@code unknown} (no git at build time). */
  public static String gitCommit() {
    return property("git.commit", "unknown");
  }

  /** {@code true}/{@code false}: uncommitted changes at build time; {@code unknown} without git. */
  public static String gitDirty() {
    return property("git.dirty", "unknown");
  }

  private static String shortDigest(String digest) {
    return digest.length() > 12 ? digest.substring(0, 12) : digest;
  }

  private static String property(String key, String absent) {
    String v = PROPS.getProperty(key);
    // An unresolved ${...} means the build had no value for it (the git plugin found no
    // repository).
    return v == null || v.isBlank() || v.contains("${") ? absent : v.trim();
  }

  private static Properties load() {
    Properties p = new Properties();
    try (InputStream in = BuildInfo.class.getResourceAsStream("/editforge/build.properties")) {
      if (in != null) {
        p.load(in);
      }
    } catch (IOException e) {
      // No build info is no reason to refuse to run; every value reads as absent.
    }
    return p;
  }
}
