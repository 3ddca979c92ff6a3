package dev.editforge.index;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;

/**
 * Maps a passage id to a shard. The hash is SHA-256 of the id's UTF-8 bytes, its first 8 bytes read
 * big-endian, taken modulo the shard count: defined by a standard, not by {@link String#hashCode()}
 * or a library version, so every JVM, rebuild and language assigns the same passage to the same
 * shard. Thread-safe (immutable).
 */
public final class ShardAssigner {
  private final int shards;

  public ShardAssigner(int shards) {
    if (shards < 1) {
      throw new IllegalArgumentException("shard count must be >= 1, got " + shards);
    }
    this.shards = shards;
  }

  public int shards() {
    return shards;
  }

  public int shardOf(String passageId) {
    if (passageId == null || passageId.isEmpty()) {
      throw new IllegalArgumentException("a passage id is required to pick a shard");
    }
    byte[] h = sha256(passageId.getBytes(StandardCharsets.UTF_8));
    long v = 0;
    for (int i = 0; i < 8; i++) {
      v = (v << 8) | (h[i] & 0xffL);
    }
    return (int) Math.floorMod(v, (long) shards);
  }

  /** The directory name of a shard under {@code <run-dir>/index/}: {@code shard-00007}. */
  public static String shardDirName(int shard) {
    return String.format("shard-%05d", shard);
  }

  private static byte[] sha256(byte[] bytes) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(bytes);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM ships SHA-256", e);
    }
  }
}
