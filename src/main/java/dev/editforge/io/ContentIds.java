package dev.editforge.io;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/**
 * Stable content ids: sha256 over the parts (each followed by a NUL, so ("ab","c") and
 * ("a","bc") differ), hex, first 32 characters. The same content always gets the same id, which
 * is what lets a rerun recognise finished work.
 */
public final class ContentIds {
  private ContentIds() {}

  public static String of(String... parts) {
    try {
      MessageDigest md = MessageDigest.getInstance("SHA-256");
      for (String p : parts) {
        md.update(p.getBytes(StandardCharsets.UTF_8));
        md.update((byte) 0);
      }
      return HexFormat.of().formatHex(md.digest()).substring(0, 32);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is required by every Java runtime", e);
    }
  }
}
