package dev.editforge.retrieve;

import java.io.IOException;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.lucene.index.IndexReader;
import org.apache.lucene.index.Term;
import org.apache.lucene.search.CollectionStatistics;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.TermStatistics;

/**
 * Term and collection statistics summed over every shard, so BM25 on a shard scores a document
 * exactly as one unsharded index would (IDF and average length come from the whole corpus; document
 * length norms are per document anyway). Without it each shard computes IDF from its own slice:
 * with hash sharding the slices are statistically alike, so rankings barely move, but scores of the
 * same term differ a little between shards and rare terms concentrated in one shard get a lower IDF
 * there than they deserve, which skews the cross-shard merge.
 *
 * <p>Thread-safe: the readers are read-only and collection statistics are cached in a concurrent
 * map (they cannot change for an opened, immutable index).
 */
final class GlobalBm25Stats {
  private final List<IndexReader> readers;
  private final Map<String, CollectionStatistics> collection = new ConcurrentHashMap<>();

  GlobalBm25Stats(List<IndexReader> readers) {
    this.readers = List.copyOf(readers);
  }

  TermStatistics term(Term term) throws IOException {
    long df = 0;
    long ttf = 0;
    for (IndexReader r : readers) {
      df += r.docFreq(term);
      ttf += r.totalTermFreq(term);
    }
    return new TermStatistics(term.bytes(), df, ttf);
  }

  /** Null when no shard has the field (then nothing can match it). */
  CollectionStatistics collection(String field) {
    return collection.computeIfAbsent(field, this::sum);
  }

  private CollectionStatistics sum(String field) {
    long maxDoc = 0;
    long docCount = 0;
    long sumTtf = 0;
    long sumDf = 0;
    try {
      for (IndexReader r : readers) {
        CollectionStatistics s = new IndexSearcher(r).collectionStatistics(field);
        if (s != null) {
          maxDoc += s.maxDoc();
          docCount += s.docCount();
          sumTtf += s.sumTotalTermFreq();
          sumDf += s.sumDocFreq();
        }
      }
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return docCount == 0 ? null : new CollectionStatistics(field, maxDoc, docCount, sumTtf, sumDf);
  }

  /** An IndexSearcher over one shard whose BM25 statistics come from all shards. */
  static final class Searcher extends IndexSearcher {
    private final GlobalBm25Stats stats;

    Searcher(IndexReader reader, GlobalBm25Stats stats) {
      super(reader);
      this.stats = stats;
    }

    @Override
    public TermStatistics termStatistics(Term term, int docFreq, long totalTermFreq)
        throws IOException {
      return stats.term(term);
    }

    @Override
    public CollectionStatistics collectionStatistics(String field) {
      return stats.collection(field);
    }
  }
}
