package dev.editforge.lucene;

import java.util.List;

/** An index on disk does not match its manifest; the message lists every problem found. */
public final class IndexVerificationException extends RuntimeException {
  private final List<String> problems;

  public IndexVerificationException(List<String> problems) {
    super(
        problems.size() == 1
            ? problems.get(0)
            : problems.size() + " index problems: " + String.join("; ", problems));
    this.problems = List.copyOf(problems);
  }

  public List<String> problems() {
    return problems;
  }
}
