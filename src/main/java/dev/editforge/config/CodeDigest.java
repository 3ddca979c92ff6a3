package dev.editforge.config;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.CodeSource;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.Enumeration;
import java.util.HexFormat;
import java.util.List;
import java.util.jar.JarEntry;
import java.util.jar.JarFile;
import java.util.stream.Stream;

/**
 * A SHA-256 over editforge's own compiled classes, so that stage fingerprints change whenever the
 * code does: the Maven version alone stays the same across rebuilds, and a stage would then skip as
 * "up to date" on results the old code wrote.
 *
 * <p>Only {@code dev/editforge/**&#47;*.class} counts: resources, dependencies and the copies of
 * Guava and SnakeYAML that the application jar relocates under {@code dev/editforge/shaded/} are
 * not editforge's code, and leaving them out makes {@code target/classes} and the shaded {@code
 * editforge.jar} built from it digest the same (shading copies classes it does not relocate byte
 * for byte), so a local run and a cluster run of one build agree on fingerprints. Each class
 * contributes its entry name and bytes, in entry-name order, so the digest does not depend on file
 * system or jar order.
 */
public final class CodeDigest {
  private static final String ROOT = "dev/editforge/";
  private static final String SHADED = "dev/editforge/shaded/";

  private CodeDigest() {}

  /**
   * Lazily computed once per JVM: hashing some hundred classes is not free, and they cannot change.
   */
  private static final class Holder {
    static final String DIGEST = computeForRunningCode();
  }

  /**
   * The digest (64 hex) of the code this JVM runs, or {@code "unknown"} where it cannot be read.
   */
  public static String current() {
    return Holder.DIGEST;
  }

  /** The digest (64 hex) of the editforge classes in a classes directory or a jar. */
  public static String of(Path classesDirOrJar) throws IOException {
    MessageDigest md = sha256();
    if (Files.isDirectory(classesDirOrJar)) {
      List<String> names = new ArrayList<>();
      try (Stream<Path> files = Files.walk(classesDirOrJar)) {
        files
            .filter(Files::isRegularFile)
            .forEach(
                f -> {
                  String name =
                      classesDirOrJar
                          .relativize(f)
                          .toString()
                          .replace(f.getFileSystem().getSeparator(), "/");
                  if (counts(name)) {
                    names.add(name);
                  }
                });
      }
      names.sort(null);
      for (String name : names) {
        update(md, name, Files.readAllBytes(classesDirOrJar.resolve(name)));
      }
    } else {
      try (JarFile jar = new JarFile(classesDirOrJar.toFile())) {
        List<JarEntry> entries = new ArrayList<>();
        for (Enumeration<JarEntry> e = jar.entries(); e.hasMoreElements(); ) {
          JarEntry entry = e.nextElement();
          if (!entry.isDirectory() && counts(entry.getName())) {
            entries.add(entry);
          }
        }
        entries.sort((a, b) -> a.getName().compareTo(b.getName()));
        for (JarEntry entry : entries) {
          try (InputStream in = jar.getInputStream(entry)) {
            update(md, entry.getName(), in.readAllBytes());
          }
        }
      }
    }
    return HexFormat.of().formatHex(md.digest());
  }

  private static boolean counts(String name) {
    return name.startsWith(ROOT) && !name.startsWith(SHADED) && name.endsWith(".class");
  }

  private static void update(MessageDigest md, String name, byte[] bytes) {
    // Lengths before contents: no two different (name, bytes) sequences hash the same stream.
    byte[] n = name.getBytes(StandardCharsets.UTF_8);
    md.update(longBytes(n.length));
    md.update(n);
    md.update(longBytes(bytes.length));
    md.update(bytes);
  }

  private static byte[] longBytes(long v) {
    byte[] b = new byte[8];
    for (int i = 7; i >= 0; i--) {
      b[i] = (byte) v;
      v >>>= 8;
    }
    return b;
  }

  private static String computeForRunningCode() {
    try {
      CodeSource src = BuildInfo.class.getProtectionDomain().getCodeSource();
      if (src == null
          || src.getLocation() == null
          || !"file".equals(src.getLocation().getProtocol())) {
        return "unknown";
      }
      return of(Path.of(src.getLocation().toURI()));
    } catch (IOException | URISyntaxException | RuntimeException e) {
      // Not knowing the code must not stop a run; the version then says so instead of guessing.
      return "unknown";
    }
  }

  private static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required of every JVM", e);
    }
  }
}
