package dev.editforge.generate;

import static org.apache.spark.sql.functions.col;
import static org.apache.spark.sql.functions.lit;
import static org.apache.spark.sql.functions.not;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.CliRun;
import dev.editforge.TestSpark;
import dev.editforge.io.Manifest;
import dev.editforge.io.WorkParts;
import dev.editforge.llm.TinyModels;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.apache.spark.sql.Dataset;
import org.apache.spark.sql.Row;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Resuming {@code editforge generate} from the chunks a killed run left in {@code
 * _work/self_edits/}: only chunks with {@code _COMMITTED} count. A chunk without it is what an
 * interrupted rename (a copy on S3A) leaves, so its rows may be partial and must not be read.
 */
class GenerateResumeTest {
  @TempDir static Path shared;

  static Path model;

  @BeforeAll
  static void writeModel() {
    // Not named tiny-qwen: SelfEditJobTest counts the tiny-qwen models cached in this JVM.
    model =
        TinyModels.write(
            shared.resolve("resume-decoder"),
            TinyModels.Family.QWEN2,
            TinyModels.config(TinyModels.Family.QWEN2, TinyModels.Size.TINY)
                .withMaxPositionEmbeddings(1024),
            7);
  }

  static CliRun generate(Path run) {
    CliRun r =
        CliRun.of(
            "generate",
            "--model",
            model.toString(),
            "--k",
            "1",
            "--run-dir",
            run.toString(),
            "--set",
            "generate.self-edit.max-new-tokens=3");
    assertEquals(0, r.exitCode(), r.toString());
    return r;
  }

  static Dataset<Row> table(Path dir) {
    return TestSpark.session().read().parquet(dir.toString());
  }

  @Test
  void aChunkWithoutCommittedMarkerIsDiscardedAndRegeneratedWhileACommittedChunkIsKept(
      @TempDir Path dir) throws Exception {
    // The reference: the same settings in one go.
    Path ref = SelfEditJobTest.ingested(dir.resolve("ref"));
    generate(ref);
    List<Row> full = SelfEditJobTest.edits(ref);
    assertEquals(15, full.size());
    List<String> articleIds = full.stream().map(r -> r.getString(1)).sorted().toList();
    Object[] first8 = articleIds.subList(0, 8).toArray();

    // What a killed run leaves: one committed chunk (8 articles) and one whose rename was cut short
    // (the other 7, without _COMMITTED). Its rows carry a marker text: were they read, they would
    // pass every keep condition (no error, same prompt, model, sampling and seed) and show up.
    Path run = SelfEditJobTest.ingested(dir.resolve("run"));
    Path work = run.resolve("_work").resolve("self_edits");
    WorkParts parts =
        new WorkParts(
            new org.apache.hadoop.fs.Path(work.toUri()),
            TestSpark.session().sparkContext().hadoopConfiguration());
    org.apache.hadoop.fs.Path temp = parts.newTemp();
    table(ref.resolve("self_edits"))
        .filter(col("article_id").isin(first8))
        .write()
        .parquet(temp.toString());
    parts.commit(temp, "chunk-killed-00000", "8 tasks");
    table(ref.resolve("self_edits"))
        .filter(not(col("article_id").isin(first8)))
        .withColumn("completion", lit("half-copied"))
        .write()
        .parquet(work.resolve("chunk-killed-00001").toString());
    assertEquals(1, parts.committed("chunk-").size());
    assertEquals(7, table(work.resolve("chunk-killed-00001")).count());

    CliRun resumed = generate(run);
    Manifest m = SelfEditJobTest.manifest(run);
    assertEquals(8, m.count("reused"), m.toJson());
    assertEquals(7, m.count("generated"), m.toJson());
    assertTrue(
        resumed.out().contains("7 of 15 (article, sample) pairs to generate"), resumed.toString());
    assertTrue(resumed.out().contains("8 kept from earlier runs"), resumed.toString());
    List<Row> rows = SelfEditJobTest.edits(run);
    List<String> texts = rows.stream().map(r -> r.getString(4)).toList();
    assertTrue(!texts.contains("half-copied"), "no row of the uncommitted chunk is read: " + texts);
    assertEquals(full, rows, "kept + regenerated rows are the rows a one-go run writes");
    assertTrue(Files.notExists(work), "the work chunks are gone after the commit");
  }
}
