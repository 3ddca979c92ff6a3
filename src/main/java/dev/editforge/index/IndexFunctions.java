package dev.editforge.index;

import dev.editforge.config.IndexSettings;
import dev.editforge.encoders.VectorSimilarity;
import dev.editforge.spark.HadoopConf;
import java.io.IOException;
import java.io.Serializable;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import java.util.stream.Stream;
import org.apache.hadoop.fs.FileSystem;
import org.apache.spark.Partitioner;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.api.java.function.PairFunction;
import org.apache.spark.sql.Row;
import scala.Tuple2;

/**
 * The executor side of {@code editforge index}: route passages to shards, write one shard per task.
 */
public final class IndexFunctions {
  private IndexFunctions() {}

  /** What one task reports about the shard it wrote. */
  public record ShardResult(
      int shard, long docs, long added, long duplicates, long bytes, String sha256)
      implements Serializable {
    public ShardWriter.ShardStats stats() {
      return new ShardWriter.ShardStats(docs, added, duplicates, bytes, sha256);
    }
  }

  /** Keys a {@code (passage_id, source_id, title, text, vector)} row by its shard. */
  public static final class KeyByShard implements PairFunction<Row, Integer, Row> {
    private static final long serialVersionUID = 1L;
    private final int shards;

    public KeyByShard(int shards) {
      this.shards = shards;
    }

    @Override
    public Tuple2<Integer, Row> call(Row r) {
      return new Tuple2<>(new ShardAssigner(shards).shardOf(r.getString(0)), r);
    }
  }

  /** Partition i holds shard i: the key is the shard number. */
  public static final class ShardPartitioner extends Partitioner {
    private static final long serialVersionUID = 1L;
    private final int shards;

    public ShardPartitioner(int shards) {
      this.shards = shards;
    }

    @Override
    public int numPartitions() {
      return shards;
    }

    @Override
    public int getPartition(Object key) {
      return (Integer) key;
    }

    @Override
    public boolean equals(Object o) {
      return o instanceof ShardPartitioner p && p.shards == shards;
    }

    @Override
    public int hashCode() {
      return shards;
    }
  }

  /**
   * Writes partition i as shard i on the task's local disk, then copies the finished directory to
   * {@code <target>/shard-NNNNN} through the Hadoop FileSystem API (file:, hdfs:, s3a: alike). A
   * retried task replaces whatever an earlier attempt left there.
   *
   * <p>With a {@code previous} index directory the task first copies that index's shard i to its
   * local disk and changes it in place: rows whose column 5 ({@code deleted}) is true delete their
   * passage id, the others are added (replacing by id). The previous index is only read.
   */
  public static final class WriteShard
      implements Function2<Integer, Iterator<Tuple2<Integer, Row>>, Iterator<ShardResult>> {
    private static final long serialVersionUID = 1L;
    private final IndexSettings settings;
    private final int dimension;
    private final VectorSimilarity similarity;
    private final String target;
    private final String previous;
    private final HadoopConf conf;

    /**
     * @param previous the committed index to change incrementally, or null to build from scratch
     */
    public WriteShard(
        IndexSettings settings,
        int dimension,
        VectorSimilarity similarity,
        String target,
        String previous,
        HadoopConf conf) {
      this.settings = settings;
      this.dimension = dimension;
      this.similarity = similarity;
      this.target = target;
      this.previous = previous;
      this.conf = conf;
    }

    @Override
    public Iterator<ShardResult> call(Integer shard, Iterator<Tuple2<Integer, Row>> rows)
        throws IOException {
      Path local = Files.createTempDirectory("editforge-shard-" + shard + "-");
      try {
        Path dir = local.resolve(ShardAssigner.shardDirName(shard));
        ShardWriter.VectorSpec spec =
            settings.vectors() ? new ShardWriter.VectorSpec(dimension, similarity) : null;
        ShardWriter.ShardStats stats;
        if (previous != null) {
          copyToLocal(
              new org.apache.hadoop.fs.Path(previous, ShardAssigner.shardDirName(shard)), dir);
        }
        try (ShardWriter w =
            previous != null
                ? ShardWriter.append(dir, settings, spec)
                : new ShardWriter(dir, settings, spec)) {
          while (rows.hasNext()) {
            Row r = rows.next()._2();
            if (r.size() > 5 && !r.isNullAt(5) && r.getBoolean(5)) {
              w.delete(r.getString(0));
              continue;
            }
            w.add(
                new IndexedPassage(
                    r.getString(0),
                    r.isNullAt(1) ? null : r.getString(1),
                    r.isNullAt(2) ? "" : r.getString(2),
                    r.isNullAt(3) ? "" : r.getString(3),
                    settings.vectors() ? vector(r) : null));
          }
          stats = w.finish();
        }
        org.apache.hadoop.fs.Path dst =
            new org.apache.hadoop.fs.Path(target, ShardAssigner.shardDirName(shard));
        FileSystem fs = dst.getFileSystem(conf.get());
        if (fs instanceof org.apache.hadoop.fs.LocalFileSystem lfs) {
          // No .crc side files: the shard checksum covers every file in the directory.
          fs = lfs.getRaw();
        }
        fs.delete(dst, true);
        fs.mkdirs(dst);
        try (Stream<Path> files = Files.list(dir)) {
          for (Path f : files.sorted().toList()) {
            if (Files.isRegularFile(f) && !f.getFileName().toString().equals("write.lock")) {
              fs.copyFromLocalFile(
                  false,
                  true,
                  new org.apache.hadoop.fs.Path(f.toUri()),
                  new org.apache.hadoop.fs.Path(dst, f.getFileName().toString()));
            }
          }
        }
        return List.of(
                new ShardResult(
                    shard,
                    stats.docs(),
                    stats.added(),
                    stats.duplicates(),
                    stats.bytes(),
                    stats.sha256()))
            .iterator();
      } finally {
        deleteTree(local);
      }
    }

    private void copyToLocal(org.apache.hadoop.fs.Path src, Path dir) throws IOException {
      FileSystem fs = src.getFileSystem(conf.get());
      Files.createDirectories(dir);
      for (org.apache.hadoop.fs.FileStatus f : fs.listStatus(src)) {
        // Only Lucene's files: a checksummed file system's hidden .crc files are not index content.
        if (f.isFile() && !f.getPath().getName().startsWith(".")) {
          fs.copyToLocalFile(
              false,
              f.getPath(),
              new org.apache.hadoop.fs.Path(dir.resolve(f.getPath().getName()).toUri()),
              true);
        }
      }
    }

    private static float[] vector(Row r) {
      if (r.isNullAt(4)) {
        return null;
      }
      List<Object> v = r.getList(4);
      float[] out = new float[v.size()];
      for (int i = 0; i < out.length; i++) {
        out[i] = ((Number) v.get(i)).floatValue();
      }
      return out;
    }
  }

  static void deleteTree(Path dir) {
    try (Stream<Path> s = Files.walk(dir)) {
      for (Path p : s.sorted(Comparator.reverseOrder()).toList()) {
        Files.deleteIfExists(p);
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot delete " + dir, e);
    }
  }
}
