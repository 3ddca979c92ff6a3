package dev.editforge.cli;

import dev.editforge.index.IndexJob;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

@Command(
    name = "index",
    description = {
      "Build the retrieval index <run-dir>/index/ from the passages and embeddings tables.",
      "index.shards Lucene shards (BM25 + HNSW), a passage always in the same shard, and index/manifest.json with checksums.",
      "A rerun updates the shards in place (new and changed passages added, removed ones deleted) unless the encoder, the index settings or the code changed."
    },
    footer = {"%nExample:", "  editforge index --run-dir runs/r1 --set index.shards=4"})
public final class IndexCommand extends StageCommand {
  @Option(
      names = "--rebuild",
      description =
          "Build every shard from scratch instead of updating the previous index in place")
  boolean rebuild;

  @Override
  protected boolean plansStages() {
    return true;
  }

  @Override
  protected int execute(Launch launch) throws Exception {
    return runStage(launch, new IndexJob(rebuild));
  }
}
