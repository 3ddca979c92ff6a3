package dev.editforge.index;

import dev.editforge.config.IndexSettings;
import dev.editforge.encoders.VectorSimilarity;
import dev.editforge.lucene.IndexManifest;
import dev.editforge.lucene.ShardFields;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import org.apache.lucene.analysis.Analyzer;
import org.apache.lucene.codecs.KnnVectorsFormat;
import org.apache.lucene.codecs.lucene912.Lucene912Codec;
import org.apache.lucene.codecs.lucene99.Lucene99HnswScalarQuantizedVectorsFormat;
import org.apache.lucene.codecs.lucene99.Lucene99HnswVectorsFormat;
import org.apache.lucene.document.Document;
import org.apache.lucene.document.Field;
import org.apache.lucene.document.KnnFloatVectorField;
import org.apache.lucene.document.StoredField;
import org.apache.lucene.document.StringField;
import org.apache.lucene.document.TextField;
import org.apache.lucene.index.IndexWriter;
import org.apache.lucene.index.IndexWriterConfig;
import org.apache.lucene.index.Term;
import org.apache.lucene.index.TieredMergePolicy;
import org.apache.lucene.index.VectorSimilarityFunction;
import org.apache.lucene.search.similarities.BM25Similarity;
import org.apache.lucene.store.FSDirectory;

/**
 * Writes one retrieval shard: a Lucene 9.12 index in a local directory with BM25 over title + text,
 * the stored fields of {@link ShardFields}, and (optionally) an HNSW vector field whose similarity
 * matches the encoder's. {@link #finish()} force-merges and commits; an unfinished shard is never
 * valid (its directory is recreated on the next attempt).
 *
 * <p>Not thread-safe: one writer per shard, fed by one thread (a Spark task owns a shard). It owns
 * its Directory, IndexWriter, Analyzer and merge pool and closes them all.
 */
public final class ShardWriter implements AutoCloseable {
  /** How much a DOT_PRODUCT vector's length may stray from 1 before it is refused. */
  static final double UNIT_TOLERANCE = 1e-3;

  /** What the vector field holds; null for BM25-only shards. */
  public record VectorSpec(int dimension, VectorSimilarity similarity) {
    public VectorSpec {
      if (dimension < 1 || dimension > 4096) {
        throw new IllegalArgumentException(
            "vector dimension must be in [1, 4096], got " + dimension);
      }
    }
  }

  /**
   * What a finished shard holds. The checksum is taken where the shard was written (an executor's
   * local disk), so the driver can assemble the manifest without reading the shards again; copying
   * the directory elsewhere must keep the bytes, which verification then checks.
   */
  public record ShardStats(long docs, long added, long duplicates, long bytes, String sha256) {}

  private final Path dir;
  private final VectorSpec vectors;
  private final FSDirectory directory;
  private final Analyzer analyzer;
  private final ExecutorService mergePool;
  private final IndexWriter writer;
  private final int mergeSegments;
  private long added;
  private long deleted;
  private final boolean append;
  private boolean finished;
  private boolean closed;

  public ShardWriter(Path dir, IndexSettings settings, VectorSpec vectors) {
    this(dir, settings, vectors, false);
  }

  /**
   * Opens an existing shard to change it in place ({@link #add} replaces by id, {@link #delete}
   * removes): the incremental index. The shard must have been written with the same settings and
   * vector spec; {@link IndexJob} rebuilds instead when any of them changed.
   */
  public static ShardWriter append(Path dir, IndexSettings settings, VectorSpec vectors) {
    return new ShardWriter(dir, settings, vectors, true);
  }

  private ShardWriter(Path dir, IndexSettings settings, VectorSpec vectors, boolean append) {
    if (settings.vectors() && vectors == null) {
      throw new IllegalArgumentException(
          "index.vectors is on but no vector dimension/similarity was given");
    }
    this.dir = dir;
    this.append = append;
    this.vectors = settings.vectors() ? vectors : null;
    this.mergeSegments = settings.mergeSegments();
    this.analyzer = settings.analyzer().create();
    this.mergePool =
        settings.mergeThreads() > 1 ? Executors.newFixedThreadPool(settings.mergeThreads()) : null;
    KnnVectorsFormat format = vectorsFormat(settings, mergePool);
    IndexWriterConfig config = new IndexWriterConfig(analyzer);
    config.setOpenMode(
        append ? IndexWriterConfig.OpenMode.APPEND : IndexWriterConfig.OpenMode.CREATE);
    // BM25 counts deleted documents in its statistics until a merge drops them, so finish()
    // expunges every deletion; Lucene's default would leave segments with up to 10% deleted.
    TieredMergePolicy merges = new TieredMergePolicy();
    merges.setForceMergeDeletesPctAllowed(0.0);
    config.setMergePolicy(merges);
    config.setSimilarity(new BM25Similarity(settings.bm25K1(), settings.bm25B()));
    config.setRAMBufferSizeMB(settings.ramBufferMb());
    // A shard is a few large segments: compound files would only add a copy step at flush and
    // hide the per-format file sizes the bench reports.
    config.setUseCompoundFile(false);
    config.setCodec(
        new Lucene912Codec() {
          @Override
          public KnnVectorsFormat getKnnVectorsFormatForField(String field) {
            return format;
          }
        });
    FSDirectory d = null;
    try {
      Files.createDirectories(dir);
      d = FSDirectory.open(dir);
      this.directory = d;
      this.writer = new IndexWriter(d, config);
    } catch (IOException | RuntimeException e) {
      closeQuietly(d);
      analyzer.close();
      if (mergePool != null) {
        mergePool.shutdownNow();
      }
      throw e instanceof IOException io
          ? new UncheckedIOException("cannot open shard " + dir, io)
          : (RuntimeException) e;
    }
  }

  static KnnVectorsFormat vectorsFormat(IndexSettings s, ExecutorService mergePool) {
    int workers = mergePool == null ? 1 : s.mergeThreads();
    return switch (s.quantization()) {
      case NONE -> new Lucene99HnswVectorsFormat(s.hnswM(), s.hnswBeamWidth(), workers, mergePool);
      // 7 bits is Lucene's byte quantization; null confidence interval lets Lucene pick by
      // dimension.
      case INT8 ->
          new Lucene99HnswScalarQuantizedVectorsFormat(
              s.hnswM(), s.hnswBeamWidth(), workers, 7, false, null, mergePool);
    };
  }

  static VectorSimilarityFunction lucene(VectorSimilarity s) {
    return switch (s) {
      case COSINE -> VectorSimilarityFunction.COSINE;
      case DOT_PRODUCT -> VectorSimilarityFunction.DOT_PRODUCT;
      case MAXIMUM_INNER_PRODUCT -> VectorSimilarityFunction.MAXIMUM_INNER_PRODUCT;
    };
  }

  /**
   * Adds (or replaces, by passage id) one passage. A bad vector is refused here with the passage id
   * in the message, because once in the graph it would silently distort every search.
   */
  public void add(IndexedPassage p) {
    if (finished) {
      throw new IllegalStateException("shard " + dir + " is already finished");
    }
    if (p.passageId() == null || p.passageId().isEmpty()) {
      throw new IllegalArgumentException("passage without passage_id");
    }
    String title = p.title() == null ? "" : p.title();
    String text = p.text() == null ? "" : p.text();
    Document doc = new Document();
    doc.add(new StringField(ShardFields.PASSAGE_ID, p.passageId(), Field.Store.YES));
    if (p.sourceId() != null) {
      doc.add(new StoredField(ShardFields.SOURCE_ID, p.sourceId()));
    }
    doc.add(new StoredField(ShardFields.TITLE, title));
    doc.add(new StoredField(ShardFields.TEXT, text));
    doc.add(
        new TextField(
            ShardFields.BODY, title.isEmpty() ? text : title + "\n" + text, Field.Store.NO));
    if (vectors != null) {
      checkVector(p);
      doc.add(
          new KnnFloatVectorField(ShardFields.VECTOR, p.vector(), lucene(vectors.similarity())));
    }
    try {
      writer.updateDocument(new Term(ShardFields.PASSAGE_ID, p.passageId()), doc);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot add passage " + p.passageId() + " to " + dir, e);
    }
    added++;
  }

  /** Deletes the passage with this id, if the shard holds it. */
  public void delete(String passageId) {
    if (finished) {
      throw new IllegalStateException("shard " + dir + " is already finished");
    }
    try {
      writer.deleteDocuments(new Term(ShardFields.PASSAGE_ID, passageId));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete passage " + passageId + " from " + dir, e);
    }
    deleted++;
  }

  private void checkVector(IndexedPassage p) {
    float[] v = p.vector();
    if (v == null) {
      throw new IllegalArgumentException("passage " + p.passageId() + " has no vector");
    }
    if (v.length != vectors.dimension()) {
      throw new IllegalArgumentException(
          "passage "
              + p.passageId()
              + " has a "
              + v.length
              + "-dimensional vector; the index holds "
              + vectors.dimension()
              + " dimensions");
    }
    double norm2 = 0;
    for (float x : v) {
      if (!Float.isFinite(x)) {
        throw new IllegalArgumentException(
            "passage " + p.passageId() + " has a non-finite vector component");
      }
      norm2 += (double) x * x;
    }
    if (vectors.similarity().requiresUnitVectors()
        && Math.abs(Math.sqrt(norm2) - 1) > UNIT_TOLERANCE) {
      throw new IllegalArgumentException(
          "passage "
              + p.passageId()
              + " has vector length "
              + Math.sqrt(norm2)
              + " but dot-product similarity needs unit vectors");
    }
    if (vectors.similarity() == VectorSimilarity.COSINE && norm2 == 0) {
      throw new IllegalArgumentException(
          "passage " + p.passageId() + " has a zero vector (no cosine)");
    }
  }

  /** Force-merges, commits and closes; the shard is then complete and searchable. */
  public ShardStats finish() {
    if (finished) {
      throw new IllegalStateException("shard " + dir + " is already finished");
    }
    try {
      writer.forceMerge(mergeSegments);
      if (deleted > 0 || added > 0) {
        // Replaced and deleted documents stay in BM25's document frequencies and average length
        // until merged away: expunge them so scores equal a fresh build's.
        writer.forceMergeDeletes(true);
      }
      writer.commit();
      long docs = writer.getDocStats().numDocs;
      finished = true;
      close();
      return new ShardStats(
          docs,
          added,
          // An appended shard also holds what it had before: its job counts duplicates instead.
          append ? 0 : added - docs,
          IndexManifest.directoryBytes(dir),
          IndexManifest.checksum(dir));
    } catch (IOException e) {
      throw new UncheckedIOException("cannot finish shard " + dir, e);
    }
  }

  public Path dir() {
    return dir;
  }

  /** Closes without committing when {@link #finish()} was not called: the shard stays invalid. */
  @Override
  public void close() {
    if (closed) {
      return;
    }
    closed = true;
    try {
      if (writer.isOpen()) {
        if (finished) {
          writer.close();
        } else {
          writer.rollback();
        }
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot close shard " + dir, e);
    } finally {
      closeQuietly(directory);
      analyzer.close();
      if (mergePool != null) {
        mergePool.shutdownNow();
      }
    }
  }

  private static void closeQuietly(AutoCloseable c) {
    if (c != null) {
      try {
        c.close();
      } catch (Exception ignored) {
        // Already failing or closing; the first error is the one worth reporting.
      }
    }
  }
}
