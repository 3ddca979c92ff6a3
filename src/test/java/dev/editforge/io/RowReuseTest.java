package dev.editforge.io;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.TestSpark;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import java.util.TreeSet;
import org.apache.hadoop.conf.Configuration;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.apache.spark.sql.types.DataTypes;
import org.apache.spark.sql.types.StructType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RowReuseTest {
  @Test
  void splitsKeysIntoReusedComputedAndRemoved() {
    RowReuse.Split<String> s = RowReuse.split(List.of("a", "b", "c", "d"), List.of("e", "c", "a"));
    assertEquals(List.of("c", "a"), List.copyOf(s.reuse()), "in the input's order");
    assertEquals(Set.of("e"), s.compute());
    assertEquals(List.of("b", "d"), List.copyOf(s.remove()));
    assertEquals(new RowReuse.Counts(2, 1, 2), s.counts());

    Manifest m = s.counts().record(Manifest.start("x", "t", "h", "v", "f"));
    assertEquals(2, m.count(RowReuse.REUSED));
    assertEquals(1, m.count(RowReuse.COMPUTED));
    assertEquals(2, m.count(RowReuse.REMOVED));
  }

  @Test
  void aFirstRunComputesEverything() {
    RowReuse.Split<Integer> s = RowReuse.split(List.of(), List.of(1, 2, 2));
    assertEquals(new RowReuse.Counts(0, 2, 0), s.counts());
  }

  @Test
  void scopeDependsOnEveryPartAndTheirOrder() {
    assertEquals(RowReuse.scope("embed", "cfg", "model"), RowReuse.scope("embed", "cfg", "model"));
    assertNotEquals(RowReuse.scope("embed", "cfg", "model"), RowReuse.scope("embed", "cfg", "m2"));
    assertNotEquals(RowReuse.scope("a", "b"), RowReuse.scope("b", "a"));
    assertNotEquals(RowReuse.scope("ab"), RowReuse.scope("a", "b"));
  }

  @Test
  void sparkPlanCopiesPreviousRowsAndComputesOnlyNewKeys() {
    StructType prev =
        DataTypes.createStructType(
            List.of(
                DataTypes.createStructField("id", DataTypes.StringType, false),
                DataTypes.createStructField("value", DataTypes.IntegerType, false)));
    StructType in =
        DataTypes.createStructType(
            List.of(
                DataTypes.createStructField("id", DataTypes.StringType, false),
                DataTypes.createStructField("text", DataTypes.StringType, false)));
    var spark = TestSpark.session();
    Dataset<Row> previous =
        spark.createDataFrame(
            List.of(
                RowFactory.create("a", 1), RowFactory.create("b", 2), RowFactory.create("c", 3)),
            prev);
    Dataset<Row> input =
        spark.createDataFrame(
            List.of(RowFactory.create("c", "C"), RowFactory.create("d", "D")), in);
    RowReuse.Plan p = RowReuse.plan(previous, input, "id");
    assertEquals(List.of(RowFactory.create("c", 3)), p.reused().collectAsList());
    assertEquals(List.of(RowFactory.create("d", "D")), p.toCompute().collectAsList());
    assertEquals(
        Set.of("a", "b"),
        new TreeSet<>(p.removed().collectAsList().stream().map(r -> r.getString(0)).toList()));
    assertEquals(new RowReuse.Counts(1, 1, 2), p.counts());

    RowReuse.Plan none = RowReuse.none(input, "id", prev);
    assertEquals(new RowReuse.Counts(0, 2, 0), none.counts());
    assertEquals(prev, none.reused().schema());
  }

  @Test
  void previousIsReusableOnlyWhenCommittedUnderTheSameScope(@TempDir Path dir) throws Exception {
    RunDir run = new RunDir(dir.toString(), new Configuration());
    assertTrue(RowReuse.previous(run, "t", "s1").isEmpty(), "no table yet");
    Path table = Files.createDirectories(dir.resolve("t"));
    Manifest m = Manifest.start("x", "t", "h", "v", "f").put(RowReuse.SCOPE, "s1");
    Files.writeString(table.resolve(RunDir.MANIFEST), m.toJson());
    assertTrue(RowReuse.previous(run, "t", "s1").isEmpty(), "still running: not committed");
    m.finish(Manifest.COMPLETED);
    Files.writeString(table.resolve(RunDir.MANIFEST), m.toJson());
    assertTrue(RowReuse.previous(run, "t", "s1").isPresent());
    assertTrue(RowReuse.previous(run, "t", "s2").isEmpty(), "another scope");
    m.finish(Manifest.FAILED);
    Files.writeString(table.resolve(RunDir.MANIFEST), m.toJson());
    assertTrue(RowReuse.previous(run, "t", "s1").isEmpty(), "failed");
  }
}
