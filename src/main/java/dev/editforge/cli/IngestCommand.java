package dev.editforge.cli;

import dev.editforge.ingest.IngestJob;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;

@Command(
    name = "ingest",
    description = {
      "Read raw files into typed tables, quarantining bad records in <table>/_rejects.",
      "Kinds: squad (SEAL list or SQuAD v1.1/v2.0) -> articles; dpr (id<TAB>text<TAB>title TSV) and passages-jsonl ({id,title,text}) -> passages; logic -> problems; instructions (alpaca or messages) -> instructions. Any input may be gzip (.gz, one task per file) or bzip2 (.bz2, split) compressed."
    },
    footer = {
      "%nExample:",
      "  editforge ingest --run-dir runs/r1 --input squad:train.json \\",
      "      --input dpr:psgs_w100.tsv.gz"
    })
public final class IngestCommand extends StageCommand {
  @Mixin IngestInputs inputs = new IngestInputs();

  @Override
  public Map<String, Object> flagOverrides() {
    return inputs.overrides();
  }

  @Override
  protected boolean plansStages() {
    return true;
  }

  @Override
  protected int execute(Launch launch) throws Exception {
    return runStage(launch, new IngestJob());
  }
}
