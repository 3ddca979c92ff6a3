package dev.editforge.retrieve;

import dev.editforge.lucene.DocRef;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;

/** Global top-k across shards. */
public final class TopK {
  private TopK() {}

  /**
   * The {@code k} best of per-shard result lists. Exact as long as each shard returned at least its
   * own top {@code k}: the global top-k can hold at most k documents from any one shard.
   */
  public static List<DocRef> merge(Collection<List<DocRef>> perShard, int k) {
    List<DocRef> all = new ArrayList<>();
    for (List<DocRef> l : perShard) {
      all.addAll(l);
    }
    all.sort(DocRef.BEST_FIRST);
    return all.size() <= k ? all : new ArrayList<>(all.subList(0, k));
  }
}
