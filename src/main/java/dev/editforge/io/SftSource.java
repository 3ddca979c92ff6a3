package dev.editforge.io;

/**
 * Where an SFT row came from; {@link #wireName()} is the value of the {@code sft.source} column.
 */
public enum SftSource {
  SELF_EDIT("self_edit"),
  REASONING("reasoning"),
  SELF_COGNITION("self_cognition"),
  INSTRUCTION("instruction"),
  /** Self-RAG generator text with reflection tokens ({@code editforge generator-data}). */
  SELFRAG("selfrag");

  private final String wire;

  SftSource(String wire) {
    this.wire = wire;
  }

  public String wireName() {
    return wire;
  }

  public static SftSource fromWire(String s) {
    for (SftSource v : values()) {
      if (v.wire.equals(s)) {
        return v;
      }
    }
    throw new IllegalArgumentException(
        "unknown sft source \""
            + s
            + "\"; known: self_edit, reasoning, self_cognition, instruction, selfrag");
  }
}
