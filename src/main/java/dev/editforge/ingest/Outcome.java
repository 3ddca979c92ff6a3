package dev.editforge.ingest;

import java.io.Serializable;

/** The fate of one input record after deduplication. */
public record Outcome(Kind kind, Parsed record) implements Serializable {
  public enum Kind {
    ACCEPTED,
    REJECTED,
    DUPLICATE
  }
}
