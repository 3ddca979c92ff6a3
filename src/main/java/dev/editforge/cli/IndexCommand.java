package dev.editforge.cli;

import dev.editforge.index.IndexJob;
import picocli.CommandLine.Command;

@Command(
    name = "index",
    description = {
      "Build the retrieval index <run-dir>/index/ from the passages and embeddings tables.",
      "index.shards Lucene shards (BM25 + HNSW), a passage always in the same shard, and index/manifest.json with checksums."
    },
    footer = {"%nExample:", "  editforge index --run-dir runs/r1 --set index.shards=4"})
public final class IndexCommand extends StageCommand {
  @Override
  protected boolean plansStages() {
    return true;
  }

  @Override
  protected int execute(Launch launch) throws Exception {
    return runStage(launch, new IndexJob());
  }
}
