package dev.editforge.retrieve;

import dev.editforge.encoders.VectorSimilarity;
import dev.editforge.lucene.DocRef;
import dev.editforge.lucene.IndexManifest;
import dev.editforge.lucene.TextAnalyzer;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.index.IndexReader;
import org.apache.lucene.search.similarities.BM25Similarity;

/**
 * Every shard of one index, searched as one: per-shard top-k merged into a global top-k.
 *
 * <p>BM25 scores: with {@code globalBm25Stats} on, every shard scores with corpus-wide term and
 * collection statistics, so results equal those of a single unsharded index. With it off each shard
 * uses its own statistics (see {@link GlobalBm25Stats} for what that changes).
 *
 * <p>Thread-safe (see {@link ShardSearcher}). Owns its shard searchers and the analyzer; close it
 * once, after the last search.
 */
public final class ShardSet implements AutoCloseable {
  private final IndexManifest manifest;
  private final Analyzer analyzer;
  private final List<ShardSearcher> shards;

  private ShardSet(IndexManifest manifest, Analyzer analyzer, List<ShardSearcher> shards) {
    this.manifest = manifest;
    this.analyzer = analyzer;
    this.shards = List.copyOf(shards);
  }

  /**
   * Opens the index under {@code indexDir} as its manifest describes it.
   *
   * @param verify checksum every shard first (a sequential read of the whole index) and refuse to
   *     open if any is missing or altered
   */
  public static ShardSet open(Path indexDir, boolean verify, boolean globalBm25Stats) {
    IndexManifest m = IndexManifest.read(indexDir);
    if (verify) {
      m.verifyOrThrow(indexDir);
    }
    Analyzer analyzer = TextAnalyzer.fromConfigName(m.analyzer()).create();
    BM25Similarity bm25 = new BM25Similarity((float) m.bm25K1(), (float) m.bm25B());
    VectorSimilarity sim = m.hasVectors() ? VectorSimilarity.fromConfigName(m.similarity()) : null;
    boolean rescore = m.hasVectors() && !"none".equals(m.quantization());
    List<ShardSearcher> opened = new ArrayList<>();
    try {
      for (IndexManifest.Shard s : m.shards()) {
        opened.add(
            ShardSearcher.open(s.shard(), indexDir.resolve(s.dir()), analyzer, bm25, sim, rescore));
      }
      if (globalBm25Stats && opened.size() > 1) {
        List<IndexReader> readers = opened.stream().map(ShardSearcher::reader).toList();
        GlobalBm25Stats stats = new GlobalBm25Stats(readers);
        opened.forEach(s -> s.useStats(stats));
      }
      return new ShardSet(m, analyzer, opened);
    } catch (RuntimeException e) {
      opened.forEach(ShardSearcher::close);
      analyzer.close();
      throw e;
    }
  }

  public IndexManifest manifest() {
    return manifest;
  }

  public int numDocs() {
    return shards.stream().mapToInt(ShardSearcher::numDocs).sum();
  }

  /** Global BM25 top {@code k}. */
  public List<DocRef> bm25(String query, int k) {
    List<List<DocRef>> per = new ArrayList<>(shards.size());
    for (ShardSearcher s : shards) {
      per.add(s.bm25(query, k));
    }
    return TopK.merge(per, k);
  }

  /** Global dense top {@code k}, each shard's HNSW asked for {@code max(k, candidates)}. */
  public List<DocRef> dense(float[] query, int k, int candidates) {
    if (!manifest.hasVectors()) {
      throw new IllegalStateException("the index has no vectors: it was built BM25-only");
    }
    if (query.length != manifest.dimension()) {
      throw new IllegalArgumentException(
          "query vector has "
              + query.length
              + " dimensions; the index holds "
              + manifest.dimension());
    }
    List<List<DocRef>> per = new ArrayList<>(shards.size());
    for (ShardSearcher s : shards) {
      per.add(s.dense(query, k, candidates));
    }
    return TopK.merge(per, k);
  }

  /** The stored passage behind a reference, carrying the reference's score. */
  public Hit load(DocRef ref) {
    return shards.get(ref.shard()).load(ref, ref.score());
  }

  public List<Hit> load(List<DocRef> refs) {
    List<Hit> hits = new ArrayList<>(refs.size());
    for (DocRef r : refs) {
      hits.add(load(r));
    }
    return hits;
  }

  @Override
  public void close() {
    RuntimeException first = null;
    for (ShardSearcher s : shards) {
      try {
        s.close();
      } catch (RuntimeException e) {
        if (first == null) {
          first = e;
        }
      }
    }
    analyzer.close();
    if (first != null) {
      throw first;
    }
  }
}
