package dev.editforge.cli;

import java.util.List;
import java.util.Map;
import picocli.CommandLine.Option;

/** The --input flag of ingest and run: replaces editforge.ingest.inputs when given. */
public final class IngestInputs {
  @Option(
      names = "--input",
      paramLabel = "KIND:PATH",
      description =
          "An input, e.g. squad:data/squad_val.json or dpr:psgs_w100.tsv; repeatable (replaces editforge.ingest.inputs)")
  List<String> inputs;

  public Map<String, Object> overrides() {
    return inputs == null ? Map.of() : Map.of("ingest.inputs", inputs);
  }
}
