package dev.editforge.index;

import dev.editforge.config.IndexSettings;
import dev.editforge.lucene.IndexManifest;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Builds a whole sharded index in one JVM: routes each passage to its shard with {@link
 * ShardAssigner}, then finishes every shard and writes the manifest. Used locally, by tests and by
 * the bench; on a cluster each task writes one shard with {@link ShardWriter} and the driver calls
 * {@link #manifest}.
 *
 * <p>Every shard writer buffers up to {@code ram-buffer-mb} before flushing, so one JVM building
 * all shards needs up to shards x that much heap for large corpora.
 *
 * <p>Not thread-safe. Owns its shard writers; {@link #close()} without {@link #finish()} rolls them
 * back and writes no manifest, so a failed build is never mistaken for a finished one.
 */
public final class IndexBuilder implements AutoCloseable {
  private final Path indexDir;
  private final IndexSettings settings;
  private final EncoderInfo encoder;
  private final ShardAssigner assigner;
  private final List<ShardWriter> writers = new ArrayList<>();
  private boolean done;

  /**
   * @param encoder null for a BM25-only index (then {@code settings.vectors()} must be false)
   */
  public IndexBuilder(Path indexDir, IndexSettings settings, EncoderInfo encoder) {
    this.indexDir = indexDir;
    this.settings = settings;
    this.encoder = settings.vectors() ? encoder : null;
    this.assigner = new ShardAssigner(settings.shards());
    ShardWriter.VectorSpec spec =
        this.encoder == null
            ? null
            : new ShardWriter.VectorSpec(encoder.dimension(), encoder.similarity());
    try {
      for (int s = 0; s < settings.shards(); s++) {
        writers.add(
            new ShardWriter(indexDir.resolve(ShardAssigner.shardDirName(s)), settings, spec));
      }
    } catch (RuntimeException e) {
      close();
      throw e;
    }
  }

  public void add(IndexedPassage p) {
    writers.get(assigner.shardOf(p.passageId())).add(p);
  }

  /** Finishes every shard, writes {@code manifest.json} and returns it. */
  public IndexManifest finish() {
    List<ShardWriter.ShardStats> stats = new ArrayList<>();
    for (ShardWriter w : writers) {
      stats.add(w.finish());
    }
    done = true;
    IndexManifest m = manifest(settings, encoder, stats);
    m.write(indexDir);
    return m;
  }

  /**
   * The manifest of finished shards {@code shard-00000 ..}; {@code stats.get(i)} belongs to shard i
   * and carries the checksum its writer took, so no shard is read here. Write it with {@link
   * IndexManifest#write} into the directory holding the shards once all are in place.
   */
  public static IndexManifest manifest(
      IndexSettings settings, EncoderInfo encoder, List<ShardWriter.ShardStats> stats) {
    if (stats.size() != settings.shards()) {
      throw new IllegalArgumentException(
          "index.shards = " + settings.shards() + " but " + stats.size() + " shards were written");
    }
    List<IndexManifest.Shard> shards = new ArrayList<>();
    long docs = 0;
    for (int i = 0; i < stats.size(); i++) {
      ShardWriter.ShardStats s = stats.get(i);
      shards.add(
          new IndexManifest.Shard(
              i, ShardAssigner.shardDirName(i), s.docs(), s.bytes(), s.sha256()));
      docs += s.docs();
    }
    boolean vectors = settings.vectors() && encoder != null;
    return new IndexManifest(
        IndexManifest.FORMAT_VERSION,
        shards.size(),
        docs,
        vectors ? encoder.model() : null,
        vectors ? encoder.preset() : null,
        vectors ? encoder.dimension() : 0,
        vectors ? encoder.similarity().configName() : null,
        settings.analyzer().configName(),
        settings.bm25K1(),
        settings.bm25B(),
        vectors ? settings.quantization().name().toLowerCase() : null,
        settings.hnswM(),
        settings.hnswBeamWidth(),
        shards);
  }

  @Override
  public void close() {
    RuntimeException first = null;
    for (ShardWriter w : writers) {
      try {
        w.close();
      } catch (RuntimeException e) {
        if (first == null) {
          first = e;
        }
      }
    }
    if (first != null && !done) {
      throw first;
    }
  }
}
