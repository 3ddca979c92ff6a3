package dev.editforge.retrieve;

import dev.editforge.encoders.VectorSimilarity;
import dev.editforge.lucene.DocRef;
import dev.editforge.lucene.ShardFields;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.document.Document;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.FloatVectorValues;
import org.apache.lucene.index.IndexReader;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.ReaderUtil;
import org.apache.lucene.search.IndexSearcher;
import org.apache.lucene.search.KnnFloatVectorQuery;
import org.apache.lucene.search.Query;
import org.apache.lucene.search.ScoreDoc;
import org.apache.lucene.search.TopDocs;
import org.apache.lucene.search.similarities.BM25Similarity;
import org.apache.lucene.store.MMapDirectory;
import org.apache.lucene.util.QueryBuilder;

/**
 * Searches one shard, memory-mapped (MMapDirectory: the OS page cache holds the hot parts, the JVM
 * heap does not). BM25 over the title + text field and HNSW search over the vector field.
 *
 * <p>Thread-safe: Lucene's IndexSearcher and readers are, queries are built per call and stored
 * fields are read through a per-call reader. Owns its Directory and reader; the analyzer belongs to
 * the caller ({@link ShardSet}), which closes it.
 */
public final class ShardSearcher implements AutoCloseable {
  private final int shard;
  private final MMapDirectory directory;
  private final DirectoryReader reader;
  private volatile IndexSearcher searcher;
  private final Analyzer analyzer;
  private final BM25Similarity bm25;
  private final VectorSimilarity vectorSimilarity;
  private final boolean rescore;

  private ShardSearcher(
      int shard,
      MMapDirectory directory,
      DirectoryReader reader,
      Analyzer analyzer,
      BM25Similarity bm25,
      VectorSimilarity vectorSimilarity,
      boolean rescore) {
    this.shard = shard;
    this.directory = directory;
    this.reader = reader;
    this.analyzer = analyzer;
    this.bm25 = bm25;
    this.vectorSimilarity = vectorSimilarity;
    this.rescore = rescore;
    useStats(null);
  }

  /**
   * Opens a shard.
   *
   * @param vectorSimilarity how the shard's vectors were indexed (from the manifest), null if none
   * @param rescore re-rank HNSW candidates by exact similarity on the stored float vectors; needed
   *     for quantized shards, whose graph search scores with approximate (int8) vectors
   */
  public static ShardSearcher open(
      int shard,
      Path dir,
      Analyzer analyzer,
      BM25Similarity bm25,
      VectorSimilarity vectorSimilarity,
      boolean rescore) {
    MMapDirectory d = null;
    try {
      d = new MMapDirectory(dir);
      DirectoryReader r = DirectoryReader.open(d);
      return new ShardSearcher(shard, d, r, analyzer, bm25, vectorSimilarity, rescore);
    } catch (IOException e) {
      if (d != null) {
        try {
          d.close();
        } catch (IOException ignored) {
          // reporting the open failure
        }
      }
      throw new UncheckedIOException("cannot open shard " + shard + " at " + dir, e);
    }
  }

  /** Switches BM25 to corpus-wide statistics (null: this shard's own). Call before searching. */
  void useStats(GlobalBm25Stats stats) {
    IndexSearcher s =
        stats == null ? new IndexSearcher(reader) : new GlobalBm25Stats.Searcher(reader, stats);
    s.setSimilarity(bm25);
    this.searcher = s;
  }

  IndexReader reader() {
    return reader;
  }

  public int shard() {
    return shard;
  }

  public int numDocs() {
    return reader.numDocs();
  }

  /**
   * The BM25 top {@code k}; an empty list when the query has no searchable term (e.g. only stop
   * words).
   */
  public List<DocRef> bm25(String query, int k) {
    Query q = new QueryBuilder(analyzer).createBooleanQuery(ShardFields.BODY, query);
    if (q == null) {
      return List.of();
    }
    try {
      return refs(searcher.search(q, k), false);
    } catch (IndexSearcher.TooManyClauses e) {
      throw new IllegalArgumentException(
          "query has more than " + IndexSearcher.getMaxClauseCount() + " terms; shorten it", e);
    } catch (IOException e) {
      throw new UncheckedIOException("BM25 search failed on shard " + shard, e);
    }
  }

  /**
   * The dense top {@code k}. HNSW is asked for {@code max(k, candidates)} neighbours and the best k
   * kept: on the measured MiniLM index, recall@10 against exact search was 0.999 asking for 100 but
   * 0.92 asking for 10, because a wider search beam rarely misses the true neighbours.
   */
  public List<DocRef> dense(float[] query, int k, int candidates) {
    if (vectorSimilarity == null) {
      throw new IllegalStateException("shard " + shard + " has no vectors: it was built BM25-only");
    }
    int ask = Math.max(k, candidates);
    try {
      TopDocs top = searcher.search(new KnnFloatVectorQuery(ShardFields.VECTOR, query, ask), ask);
      List<DocRef> refs = rescore ? exactScores(query, top) : refs(top, true);
      return refs.size() <= k ? refs : new ArrayList<>(refs.subList(0, k));
    } catch (IOException e) {
      throw new UncheckedIOException("vector search failed on shard " + shard, e);
    }
  }

  private List<DocRef> refs(TopDocs top, boolean vector) {
    List<DocRef> out = new ArrayList<>(top.scoreDocs.length);
    for (ScoreDoc sd : top.scoreDocs) {
      double score = vector ? rawVectorScore(vectorSimilarity, sd.score) : sd.score;
      out.add(new DocRef(shard, sd.doc, score));
    }
    return out;
  }

  /**
   * The candidates re-scored with the exact similarity of the stored float vectors, best first. On
   * int8 shards HNSW ranks by quantized vectors, which misorders near neighbours (recall@10
   * measured 0.93 on clustered data); re-ranking the wider candidate list exactly restores it, at
   * the cost of reading {@code candidates} float vectors per query.
   */
  private List<DocRef> exactScores(float[] query, TopDocs top) throws IOException {
    ScoreDoc[] byDoc = top.scoreDocs.clone();
    java.util.Arrays.sort(byDoc, java.util.Comparator.comparingInt(sd -> sd.doc));
    List<DocRef> out = new ArrayList<>(byDoc.length);
    List<LeafReaderContext> leaves = reader.leaves();
    int leaf = -1;
    FloatVectorValues values = null;
    for (ScoreDoc sd : byDoc) {
      int l = ReaderUtil.subIndex(sd.doc, leaves);
      if (l != leaf) {
        leaf = l;
        values = leaves.get(l).reader().getFloatVectorValues(ShardFields.VECTOR);
      }
      int local = sd.doc - leaves.get(l).docBase;
      if (values == null || values.docID() > local || values.advance(local) != local) {
        throw new IllegalStateException(
            "shard " + shard + ": doc " + sd.doc + " matched by HNSW has no stored vector");
      }
      out.add(new DocRef(shard, sd.doc, vectorSimilarity.compare(query, values.vectorValue())));
    }
    out.sort(DocRef.BEST_FIRST);
    return out;
  }

  /**
   * Lucene maps every vector similarity to a positive score; this undoes it so a dense score is the
   * cosine, dot product or inner product itself (what Self-RAG's {@code ctxs[].score} holds).
   */
  static double rawVectorScore(VectorSimilarity sim, float luceneScore) {
    return switch (sim) {
      // score = (1 + s) / 2
      case COSINE, DOT_PRODUCT -> 2.0 * luceneScore - 1.0;
      // score = s < 0 ? 1 / (1 - s) : s + 1
      case MAXIMUM_INNER_PRODUCT -> luceneScore >= 1 ? luceneScore - 1.0 : 1.0 - 1.0 / luceneScore;
    };
  }

  /** Reads the stored fields of one document of this shard. */
  public Hit load(DocRef ref, double score) {
    try {
      Document d = reader.storedFields().document(ref.doc());
      return new Hit(
          d.get(ShardFields.PASSAGE_ID),
          d.get(ShardFields.SOURCE_ID),
          d.get(ShardFields.TITLE),
          d.get(ShardFields.TEXT),
          score);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read document " + ref.doc() + " of shard " + shard, e);
    }
  }

  @Override
  public void close() {
    try {
      reader.close();
      directory.close();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot close shard " + shard, e);
    }
  }
}
