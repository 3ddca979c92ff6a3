package dev.editforge.llm;

import java.util.Arrays;
import java.util.stream.Collectors;

/**
 * The element types a safetensors header may name. Only {@link #F32}, {@link #F16} and {@link
 * #BF16} can be read as floating-point weights; the others are recognised so that a checkpoint
 * holding, say, an int64 buffer can still be opened and the float tensors read from it.
 */
public enum SafetensorsDType {
  BOOL(1),
  U8(1),
  I8(1),
  F8_E5M2(1),
  F8_E4M3(1),
  I16(2),
  U16(2),
  F16(2),
  BF16(2),
  I32(4),
  U32(4),
  F32(4),
  F64(8),
  I64(8),
  U64(8);

  private final int bytes;

  SafetensorsDType(int bytes) {
    this.bytes = bytes;
  }

  public int bytes() {
    return bytes;
  }

  /** Whether weights of this type can be converted to float32/float16 on load. */
  public boolean isLoadableFloat() {
    return this == F32 || this == F16 || this == BF16;
  }

  /** The header spelling, or null when the header names a type this reader does not know. */
  static SafetensorsDType parse(String name) {
    for (SafetensorsDType t : values()) {
      if (t.name().equals(name)) {
        return t;
      }
    }
    return null;
  }

  static String known() {
    return Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", "));
  }
}
