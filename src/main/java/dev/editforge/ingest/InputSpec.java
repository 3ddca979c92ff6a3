package dev.editforge.ingest;

import java.io.Serializable;

/** One {@code KIND:PATH} input. PATH may itself contain ':' (hdfs://, s3a://). */
public record InputSpec(InputKind kind, String path) implements Serializable {
  public static InputSpec parse(String spec) {
    int colon = spec.indexOf(':');
    InputKind kind = colon > 0 ? InputKind.of(spec.substring(0, colon)) : null;
    if (kind == null || colon == spec.length() - 1) {
      throw new InputException(
          "input \""
              + spec
              + "\" must be KIND:PATH with KIND one of "
              + String.join(", ", InputKind.names()));
    }
    return new InputSpec(kind, spec.substring(colon + 1));
  }

  @Override
  public String toString() {
    return kind.cliName() + ":" + path;
  }
}
