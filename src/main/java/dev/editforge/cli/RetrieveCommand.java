package dev.editforge.cli;

import dev.editforge.retrieve.RetrieveJob;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "retrieve",
    description = {
      "Retrieve top-k passages from the run's index for queries (a JSON/JSONL file of {id, question,",
      "answers} or the articles table's questions) into the retrievals table and, with --out, a",
      "Self-RAG JSONL file (records plus ctxs [{id, title, text, score, hasanswer}])."
    })
public final class RetrieveCommand extends StageCommand {
  @Option(
      names = "--queries",
      paramLabel = "FILE|TABLE",
      description =
          "Query file (JSON or JSONL, local or Hadoop URI) or 'articles'; sets editforge.retrieve.queries")
  String queries;

  @Option(
      names = "--mode",
      paramLabel = "MODE",
      description = "bm25, dense or hybrid; sets editforge.retrieve.mode")
  String mode;

  @Option(
      names = "--k",
      paramLabel = "N",
      description = "Passages per query; sets editforge.retrieve.k")
  Integer k;

  @Option(
      names = "--out",
      paramLabel = "FILE.jsonl",
      description = "Also write Self-RAG JSONL here; sets editforge.retrieve.out")
  String out;

  @Override
  public Map<String, Object> flagOverrides() {
    return given(
        "retrieve.queries", queries, "retrieve.mode", mode, "retrieve.k", k, "retrieve.out", out);
  }

  @Override
  protected int execute(Launch launch) throws Exception {
    return runStage(launch, new RetrieveJob(false));
  }
}
