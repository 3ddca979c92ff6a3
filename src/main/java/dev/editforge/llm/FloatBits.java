package dev.editforge.llm;

/**
 * Conversions between float32 and the 16-bit float formats checkpoints use. Java 17 has no float16
 * support and DJL's PyTorch engine aborts on bf16 casts, so these run on the host.
 */
public final class FloatBits {
  private FloatBits() {}

  /** bf16 is the top half of a float32: widening is a 16-bit shift. */
  public static float bf16ToFloat(short bits) {
    return Float.intBitsToFloat((bits & 0xFFFF) << 16);
  }

  /** Rounds to nearest even, keeping NaN a NaN. */
  public static short floatToBf16(float f) {
    int bits = Float.floatToRawIntBits(f);
    if (Float.isNaN(f)) {
      return (short) ((bits >>> 16) | 0x0040);
    }
    int rounding = 0x7FFF + ((bits >>> 16) & 1);
    return (short) ((bits + rounding) >>> 16);
  }

  /** IEEE 754 binary16 to float32, subnormals, infinities and NaN included. */
  public static float f16ToFloat(short half) {
    int h = half & 0xFFFF;
    int sign = (h & 0x8000) << 16;
    int exp = (h >>> 10) & 0x1F;
    int mant = h & 0x3FF;
    if (exp == 0x1F) {
      return Float.intBitsToFloat(sign | 0x7F800000 | (mant << 13));
    }
    if (exp == 0) {
      if (mant == 0) {
        return Float.intBitsToFloat(sign);
      }
      float v = mant * 0x1p-24f;
      return sign != 0 ? -v : v;
    }
    return Float.intBitsToFloat(sign | ((exp + 112) << 23) | (mant << 13));
  }

  /** float32 to IEEE 754 binary16, rounding to nearest even; overflow becomes infinity. */
  public static short floatToF16(float f) {
    int bits = Float.floatToRawIntBits(f);
    int sign = (bits >>> 16) & 0x8000;
    int exp = (bits >>> 23) & 0xFF;
    int mant = bits & 0x7FFFFF;
    if (exp == 0xFF) {
      return (short) (sign | 0x7C00 | (mant != 0 ? 0x200 | (mant >>> 13) : 0));
    }
    int e = exp - 127 + 15;
    if (e >= 0x1F) {
      return (short) (sign | 0x7C00);
    }
    if (e <= 0) {
      if (e < -10) {
        return (short) sign;
      }
      int m = mant | 0x800000;
      int shift = 14 - e;
      int halfMant = m >>> shift;
      int rem = m & ((1 << shift) - 1);
      int halfway = 1 << (shift - 1);
      if (rem > halfway || (rem == halfway && (halfMant & 1) != 0)) {
        halfMant++;
      }
      return (short) (sign | halfMant);
    }
    int halfMant = mant >>> 13;
    int rem = mant & 0x1FFF;
    int out = sign | (e << 10) | halfMant;
    if (rem > 0x1000 || (rem == 0x1000 && (halfMant & 1) != 0)) {
      out++;
    }
    return (short) out;
  }
}
