package dev.editforge.lora;

import java.nio.charset.StandardCharsets;

/**
 * Stateless seed derivation: every random draw of LoRA training (initialization, data order,
 * dropout) comes from a stream seeded by {@code mix(seed, what, where...)}, so a run is a pure
 * function of its seed and a resumed run needs only the seed and the step to continue exactly.
 */
public final class Seeds {
  private Seeds() {}

  /** SplitMix64's finalizer. */
  public static long scramble(long z) {
    z = (z ^ (z >>> 30)) * 0xbf58476d1ce4e5b9L;
    z = (z ^ (z >>> 27)) * 0x94d049bb133111ebL;
    return z ^ (z >>> 31);
  }

  /** A seed derived from {@code seed} and the parts, order-sensitive. */
  public static long mix(long seed, long... parts) {
    long h = scramble(seed + 0x9e3779b97f4a7c15L);
    for (long p : parts) {
      h = scramble(h ^ (p + 0x9e3779b97f4a7c15L + (h << 6) + (h >>> 2)));
    }
    return h;
  }

  /** A 64-bit FNV-1a hash of a string (edit ids into seeds). */
  public static long hash(String s) {
    long h = 0xcbf29ce484222325L;
    for (byte b : s.getBytes(StandardCharsets.UTF_8)) {
      h ^= b & 0xff;
      h *= 0x100000001b3L;
    }
    return h;
  }
}
