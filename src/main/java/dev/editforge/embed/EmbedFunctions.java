package dev.editforge.embed;

import dev.editforge.encoders.EncodedBatch;
import dev.editforge.encoders.Encoder;
import dev.editforge.encoders.EncoderPreset;
import dev.editforge.io.Rows;
import dev.editforge.spark.EncoderSpec;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.Iterator;
import java.util.List;
import org.apache.spark.api.java.function.FlatMapFunction;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;

/** The executor side of {@code editforge embed}. */
public final class EmbedFunctions {
  private EmbedFunctions() {}

  /** Rows coming out of {@link EmbedPartition}: a vector, or the reason there is none. */
  public static final StructType OUTCOME_SCHEMA =
      DataTypes.createStructType(
          List.of(
              DataTypes.createStructField("passage_id", DataTypes.StringType, false),
              DataTypes.createStructField(
                  "vector", DataTypes.createArrayType(DataTypes.FloatType, false), true),
              DataTypes.createStructField("model", DataTypes.StringType, false),
              DataTypes.createStructField("reason", DataTypes.StringType, true),
              DataTypes.createStructField("truncated", DataTypes.BooleanType, false),
              DataTypes.createStructField("record", DataTypes.StringType, true)));

  /** How many texts one encoder call gets: enough that sorting by length groups similar lengths. */
  static int chunkSize(int batchSize) {
    return Math.max(256, batchSize * 16);
  }

  /**
   * Embeds a partition of {@code (passage_id, title, text)} rows as {@code title + " " + text} with
   * the executor's one encoder. Rows are taken in chunks, each sorted by length so the encoder's
   * micro-batches pad little. Empty texts and non-finite vectors come out as rejects.
   */
  public static final class EmbedPartition implements FlatMapFunction<Iterator<Row>, Row> {
    private static final long serialVersionUID = 1L;
    private final EncoderSpec spec;

    public EmbedPartition(EncoderSpec spec) {
      this.spec = spec;
    }

    @Override
    public Iterator<Row> call(Iterator<Row> rows) {
      if (!rows.hasNext()) {
        return java.util.Collections.emptyIterator();
      }
      Encoder encoder = spec.executorEncoder();
      String model = encoder.modelName();
      int chunk = chunkSize(spec.batchSize());
      return new Iterator<>() {
        private final List<Row> ready = new ArrayList<>();
        private int next;

        @Override
        public boolean hasNext() {
          while (next >= ready.size() && rows.hasNext()) {
            ready.clear();
            next = 0;
            List<String[]> in = new ArrayList<>(chunk);
            while (in.size() < chunk && rows.hasNext()) {
              Row r = rows.next();
              in.add(
                  new String[] {
                    r.getString(0),
                    r.isNullAt(1) ? "" : r.getString(1),
                    r.isNullAt(2) ? null : r.getString(2)
                  });
            }
            embed(encoder, model, in, ready);
          }
          return next < ready.size();
        }

        @Override
        public Row next() {
          if (!hasNext()) {
            throw new java.util.NoSuchElementException();
          }
          return ready.get(next++);
        }
      };
    }
  }

  static void embed(Encoder encoder, String model, List<String[]> rows, List<Row> out) {
    List<String[]> usable = new ArrayList<>(rows.size());
    for (String[] r : rows) {
      if (r[2] == null || r[2].isBlank()) {
        out.add(RowFactory.create(r[0], null, model, "empty text", false, record(r)));
      } else {
        usable.add(r);
      }
    }
    usable.sort(Comparator.comparingInt((String[] r) -> r[1].length() + r[2].length()));
    if (usable.isEmpty()) {
      return;
    }
    List<String> texts = new ArrayList<>(usable.size());
    for (String[] r : usable) {
      texts.add(EncoderPreset.passageInput(r[1], r[2]));
    }
    EncodedBatch b = encoder.encode(texts, Encoder.Role.PASSAGE);
    for (int i = 0; i < usable.size(); i++) {
      String[] r = usable.get(i);
      String reason = b.rejections()[i];
      float[] v = b.vectors()[i];
      if (reason == null && v != null) {
        for (float x : v) {
          if (!Float.isFinite(x)) {
            reason = "non-finite vector";
            break;
          }
        }
      }
      if (reason == null && v != null) {
        List<Float> vec = new ArrayList<>(v.length);
        for (float x : v) {
          vec.add(x);
        }
        out.add(RowFactory.create(r[0], Rows.seq(vec), model, null, b.truncated()[i], null));
      } else {
        out.add(
            RowFactory.create(
                r[0],
                null,
                model,
                reason == null ? "no vector" : reason,
                b.truncated()[i],
                record(r)));
      }
    }
  }

  private static String record(String[] r) {
    String text = r[2] == null ? "" : r[2];
    String s = r[0] + "\t" + text + "\t" + r[1];
    return s.length() > 2000 ? s.substring(0, 2000) : s;
  }
}
