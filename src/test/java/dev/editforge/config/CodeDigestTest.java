package dev.editforge.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.io.Fingerprints;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.jar.JarEntry;
import java.util.jar.JarOutputStream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The code version changes exactly when editforge's classes do, for a classes dir and a jar alike.
 */
class CodeDigestTest {
  @TempDir Path tmp;

  /**
   * Entry name to bytes; insertion order deliberately not sorted, as a jar or file system may list
   * them.
   */
  private static Map<String, byte[]> classes() {
    Map<String, byte[]> c = new LinkedHashMap<>();
    c.put("dev/editforge/b/Y.class", bytes("class Y v1"));
    c.put("dev/editforge/a/X.class", bytes("class X v1"));
    c.put("dev/editforge/a/X$Inner.class", bytes("inner of X"));
    c.put("dev/editforge/Main.class", bytes("main"));
    return c;
  }

  private static byte[] bytes(String s) {
    return s.getBytes(StandardCharsets.UTF_8);
  }

  private Path dir(String name, Map<String, byte[]> files) throws IOException {
    Path root = tmp.resolve(name);
    for (Map.Entry<String, byte[]> e : files.entrySet()) {
      Path f = root.resolve(e.getKey());
      Files.createDirectories(f.getParent());
      Files.write(f, e.getValue());
    }
    Files.createDirectories(root);
    return root;
  }

  private Path jar(String name, Map<String, byte[]> files) throws IOException {
    Path jar = tmp.resolve(name);
    try (OutputStream out = Files.newOutputStream(jar);
        JarOutputStream j = new JarOutputStream(out)) {
      // Directory entries, as real jars have, must not matter.
      j.putNextEntry(new JarEntry("dev/"));
      j.closeEntry();
      j.putNextEntry(new JarEntry("dev/editforge/"));
      j.closeEntry();
      for (Map.Entry<String, byte[]> e : files.entrySet()) {
        j.putNextEntry(new JarEntry(e.getKey()));
        j.write(e.getValue());
        j.closeEntry();
      }
    }
    return jar;
  }

  @Test
  void anIdenticalRebuildDigestsTheSame() throws IOException {
    String d1 = CodeDigest.of(dir("build1", classes()));
    assertTrue(d1.matches("[0-9a-f]{64}"), d1);
    // Same contents written in the reverse order: same digest (entries are sorted by name).
    Map<String, byte[]> reversed = new LinkedHashMap<>();
    List<String> keys = List.copyOf(classes().keySet());
    for (int i = keys.size() - 1; i >= 0; i--) {
      reversed.put(keys.get(i), classes().get(keys.get(i)));
    }
    assertEquals(d1, CodeDigest.of(dir("build2", reversed)));
  }

  @Test
  void oneChangedByteOrARenamedOrAddedClassChangesTheDigest() throws IOException {
    String d1 = CodeDigest.of(dir("base", classes()));

    Map<String, byte[]> changed = classes();
    changed.put("dev/editforge/a/X.class", bytes("class X v2"));
    assertNotEquals(
        d1, CodeDigest.of(dir("changed", changed)), "one changed byte must rerun stages");

    Map<String, byte[]> renamed = classes();
    renamed.put("dev/editforge/a/Z.class", renamed.remove("dev/editforge/a/X.class"));
    assertNotEquals(
        d1, CodeDigest.of(dir("renamed", renamed)), "same bytes under another name is other code");

    Map<String, byte[]> added = classes();
    added.put("dev/editforge/c/New.class", bytes("new"));
    assertNotEquals(d1, CodeDigest.of(dir("added", added)));
  }

  @Test
  void resourcesDependenciesAndShadedCopiesDoNotCount() throws IOException {
    String d1 = CodeDigest.of(dir("base", classes()));
    Map<String, byte[]> extra = classes();
    extra.put("dev/editforge/a/notes.txt", bytes("a resource"));
    extra.put("editforge/build.properties", bytes("git.commit=abc"));
    extra.put("com/example/Other.class", bytes("a dependency"));
    extra.put("dev/editforge/shaded/guava/Lists.class", bytes("relocated guava"));
    extra.put("META-INF/MANIFEST.MF", bytes("Manifest-Version: 1.0\n"));
    assertEquals(d1, CodeDigest.of(dir("extra", extra)));
  }

  @Test
  void aJarDigestsLikeTheClassesDirectoryItWasBuiltFrom() throws IOException {
    String fromDir = CodeDigest.of(dir("classes", classes()));
    Map<String, byte[]> shaded = classes();
    shaded.put("dev/editforge/shaded/guava/Lists.class", bytes("relocated guava"));
    shaded.put("org/apache/lucene/Index.class", bytes("lucene"));
    assertEquals(fromDir, CodeDigest.of(jar("editforge.jar", shaded)));

    Map<String, byte[]> changed = classes();
    changed.put("dev/editforge/b/Y.class", bytes("class Y v1."));
    assertNotEquals(fromDir, CodeDigest.of(jar("changed.jar", changed)));
  }

  @Test
  void theRunningCodeHasADigestAndTheVersionCarriesIt() {
    String digest = BuildInfo.codeDigest();
    assertTrue(digest.matches("[0-9a-f]{64}"), "target/classes should be readable: " + digest);
    assertTrue(BuildInfo.version().endsWith("+" + digest.substring(0, 12)), BuildInfo.version());
    assertTrue(
        !BuildInfo.version().startsWith("+") && !BuildInfo.version().contains("${"),
        BuildInfo.version());
  }

  @Test
  void fingerprintsDifferWhenOnlyTheCodeVersionDiffers() {
    List<String> inputs = List.of("table:articles:abc:2024-01-01T00:00:00Z");
    String old = Fingerprints.combine("ingest", "0.1.0+3fa2b9c01d4e", "cfg", inputs);
    assertEquals(
        old, Fingerprints.combine("ingest", "0.1.0+3fa2b9c01d4e", "cfg", inputs), "deterministic");
    assertNotEquals(old, Fingerprints.combine("ingest", "0.1.0+3fa2b9c01d4f", "cfg", inputs));
  }
}
