package dev.editforge.cli;

import dev.editforge.retrieve.RetrieveJob;
import java.util.Map;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "retrieve",
    description = {
      "Retrieve the top-k passages from the run's index for each query into the retrievals table.",
      "Queries come from a JSON/JSONL file of {id, question, answers} or from the articles table's questions; with --out also writes a Self-RAG JSONL file (records plus ctxs [{id, title, text, score, hasanswer}])."
    },
    footer = {
      "%nExample:",
      "  editforge retrieve --run-dir runs/r1 --queries nq_dev.json --k 20 \\",
      "      --out runs/r1/nq.jsonl"
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
  protected boolean plansStages() {
    return true;
  }

  @Override
  protected int execute(Launch launch) throws Exception {
    return runStage(launch, new RetrieveJob());
  }
}
