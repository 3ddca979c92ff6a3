package dev.editforge.ingest;

import dev.editforge.io.Tables;
import java.util.Arrays;
import java.util.List;

/** The input formats ingest understands, and the table each one fills. */
public enum InputKind {
  SQUAD("squad", Tables.ARTICLES, false),
  DPR("dpr", Tables.PASSAGES, true),
  PASSAGES_JSONL("passages-jsonl", Tables.PASSAGES, true),
  LOGIC("logic", Tables.PROBLEMS, true),
  INSTRUCTIONS("instructions", Tables.INSTRUCTIONS, true);

  private final String cliName;
  private final String table;
  private final boolean lineBased;

  InputKind(String cliName, String table, boolean lineBased) {
    this.cliName = cliName;
    this.table = table;
    this.lineBased = lineBased;
  }

  public String cliName() {
    return cliName;
  }

  public String table() {
    return table;
  }

  /** One record per line: splittable across executors. */
  public boolean lineBased() {
    return lineBased;
  }

  public static List<String> names() {
    return Arrays.stream(values()).map(InputKind::cliName).toList();
  }

  public static InputKind of(String name) {
    for (InputKind k : values()) {
      if (k.cliName.equals(name)) {
        return k;
      }
    }
    return null;
  }
}
