package dev.editforge.ingest;

import dev.editforge.spark.HadoopConf;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import org.apache.hadoop.fs.Path;
import org.apache.hadoop.io.LongWritable;
import org.apache.hadoop.io.Text;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.api.java.function.Function2;
import org.apache.spark.api.java.function.PairFunction;
import scala.Tuple2;

/** The Spark functions of ingest: static classes with small final fields, nothing captured. */
final class IngestFunctions {
  private IngestFunctions() {}

  /** Pass 1 over a line-based file: how many lines each split holds, for global line numbers. */
  static final class CountLines
      implements Function2<Integer, Iterator<Tuple2<LongWritable, Text>>, Iterator<long[]>> {
    @Override
    public Iterator<long[]> call(Integer partition, Iterator<Tuple2<LongWritable, Text>> lines) {
      long n = 0;
      while (lines.hasNext()) {
        lines.next();
        n++;
      }
      return List.of(new long[] {partition, n}).iterator();
    }
  }

  /** Pass 2: parse every line; line number = lines in earlier splits + position in this split. */
  static final class ParseLines
      implements Function2<Integer, Iterator<Tuple2<LongWritable, Text>>, Iterator<Parsed>> {
    private final LineParser parser;
    private final String file;
    private final long[] linesBefore;

    ParseLines(LineParser parser, String file, long[] linesBefore) {
      this.parser = parser;
      this.file = file;
      this.linesBefore = linesBefore;
    }

    @Override
    public Iterator<Parsed> call(Integer partition, Iterator<Tuple2<LongWritable, Text>> lines) {
      final long base = linesBefore[partition];
      return new Iterator<>() {
        long index;
        Parsed next;

        @Override
        public boolean hasNext() {
          while (next == null && lines.hasNext()) {
            Text t = lines.next()._2();
            index++;
            next = parser.parse(file, base + index, t.getBytes(), t.getLength());
          }
          return next != null;
        }

        @Override
        public Parsed next() {
          if (!hasNext()) {
            throw new java.util.NoSuchElementException();
          }
          Parsed p = next;
          next = null;
          return p;
        }
      };
    }
  }

  /**
   * A SQuAD document is one JSON value: one task streams it (records come out one by one),
   * decompressing a {@code .gz} / {@code .bz2} on the way.
   */
  static final class ParseSquadFile implements FlatMapFunction<String, Parsed> {
    private final HadoopConf conf;
    private final RecordLimits limits;

    ParseSquadFile(HadoopConf conf, RecordLimits limits) {
      this.conf = conf;
      this.limits = limits;
    }

    @Override
    public Iterator<Parsed> call(String file) throws IOException {
      Path path = new Path(file);
      InputStream in = InputFiles.open(path.getFileSystem(conf.get()), path, conf.get());
      SquadReader reader;
      try {
        reader = new SquadReader(in, file, limits);
      } catch (RuntimeException e) {
        in.close();
        throw e;
      }
      // Lazy, so a large document streams through the task; the stream closes at its end.
      return new Iterator<>() {
        boolean open = true;

        @Override
        public boolean hasNext() {
          boolean more = open && reader.hasNext();
          if (!more && open) {
            open = false;
            try {
              in.close();
            } catch (IOException e) {
              throw new UncheckedIOException("cannot close " + file, e);
            }
          }
          return more;
        }

        @Override
        public Parsed next() {
          return reader.next();
        }
      };
    }
  }

  static final class KeyByRecord implements PairFunction<Parsed, String, Parsed> {
    @Override
    public Tuple2<String, Parsed> call(Parsed p) {
      return new Tuple2<>(p.table + "\u0000" + p.key, p);
    }
  }

  /**
   * First occurrence wins; an exact copy is a duplicate, a different record under the same id a
   * reject.
   */
  static final class ResolveDuplicates
      implements FlatMapFunction<Tuple2<String, Iterable<Parsed>>, Outcome> {
    @Override
    public Iterator<Outcome> call(Tuple2<String, Iterable<Parsed>> group) {
      List<Parsed> all = new ArrayList<>();
      group._2().forEach(all::add);
      return Deduplication.resolve(all).iterator();
    }
  }
}
