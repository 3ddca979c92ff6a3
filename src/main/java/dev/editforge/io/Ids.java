package dev.editforge.io;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.text.Normalizer;

/**
 * Stable content ids: the first 16 bytes (32 hex chars) of SHA-256 over NFC-normalized fields
 * joined by a unit separator, so the same input always yields the same id on any JVM and a rerun
 * can skip finished work.
 */
public final class Ids {
  private Ids() {}

  public static String of(String... fields) {
    MessageDigest md = sha256();
    for (int i = 0; i < fields.length; i++) {
      if (i > 0) {
        md.update((byte) 0x1f);
      }
      String f =
          fields[i] == null ? "\u0000" : Normalizer.normalize(fields[i], Normalizer.Form.NFC);
      md.update(f.getBytes(StandardCharsets.UTF_8));
    }
    return hex(md.digest(), 16);
  }

  public static String sha256Hex(byte[] data) {
    return hex(sha256().digest(data), 32);
  }

  public static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 missing from the JVM", e);
    }
  }

  public static String hex(byte[] digest, int bytes) {
    StringBuilder sb = new StringBuilder(bytes * 2);
    for (int i = 0; i < bytes; i++) {
      sb.append(Character.forDigit((digest[i] >> 4) & 0xf, 16))
          .append(Character.forDigit(digest[i] & 0xf, 16));
    }
    return sb.toString();
  }
}
