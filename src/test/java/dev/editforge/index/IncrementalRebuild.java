package dev.editforge.index;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.CliRun;
import dev.editforge.TestSpark;
import dev.editforge.config.EmbedSettings;
import dev.editforge.config.RetrieveSettings;
import dev.editforge.encoders.Encoder;
import dev.editforge.io.Manifest;
import dev.editforge.lucene.ShardFields;
import dev.editforge.retrieve.Hit;
import dev.editforge.retrieve.Retriever;
import dev.editforge.spark.Encoders;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.lucene.index.DirectoryReader;
import org.apache.lucene.index.FloatVectorValues;
import org.apache.lucene.index.LeafReaderContext;
import org.apache.lucene.index.StoredFields;
import org.apache.lucene.search.DocIdSetIterator;
import org.apache.lucene.store.FSDirectory;
import org.apache.spark.sql.Row;

/**
 * The issue-18 scenario shared by the project-data and the DPR-sample tests: embed and index a
 * corpus, add 10 passages and change 5, rerun both stages in place, and compare the result with a
 * from-scratch run of the final corpus: the embeddings row for row and vector for vector, the
 * shards' vectors, and top-20 BM25 (scores included) and dense rankings.
 */
final class IncrementalRebuild {
  private IncrementalRebuild() {}

  /** A DPR TSV row: id, text, title (already unquoted). */
  record Passage(String id, String text, String title) {}

  static List<Passage> readTsv(Path tsv) throws IOException {
    List<Passage> out = new ArrayList<>();
    List<String> lines = Files.readAllLines(tsv);
    for (String line : lines.subList(1, lines.size())) {
      String[] f = line.split("\t", 3);
      out.add(new Passage(f[0], unquote(f[1]), unquote(f[2])));
    }
    return out;
  }

  static Path writeTsv(Path file, List<Passage> passages) throws IOException {
    StringBuilder sb = new StringBuilder("id\ttext\ttitle\n");
    for (Passage p : passages) {
      sb.append(p.id()).append('\t').append(quote(p.text())).append('\t').append(quote(p.title()));
      sb.append('\n');
    }
    return Files.writeString(file, sb);
  }

  /**
   * The corpus before: all but the last 10 passages. After: the same with the texts of 5 of them
   * changed (spread over the corpus) and the last 10 added.
   */
  static List<List<Passage>> beforeAndAfter(List<Passage> all) {
    List<Passage> before = new ArrayList<>(all.subList(0, all.size() - 10));
    List<Passage> after = new ArrayList<>(before);
    for (int i = 0; i < 5; i++) {
      int at = (i + 1) * before.size() / 6;
      Passage p = after.get(at);
      after.set(at, new Passage(p.id(), p.text() + " This passage was revised.", p.title()));
    }
    after.addAll(all.subList(all.size() - 10, all.size()));
    return List.of(before, after);
  }

  static CliRun ok(String... args) {
    CliRun r = CliRun.of(args);
    assertEquals(0, r.exitCode(), r.toString());
    return r;
  }

  static Manifest manifest(Path table) throws IOException {
    return Manifest.parse(Files.readString(table.resolve("_manifest.json")));
  }

  /** passage_id → (model, vector) of an embeddings table. */
  static Map<String, Row> embeddings(Path table) {
    Map<String, Row> out = new HashMap<>();
    for (Row r : TestSpark.session().read().parquet(table.toString()).collectAsList()) {
      out.put(r.getString(0), r);
    }
    return out;
  }

  static float[] floats(Row r) {
    List<Object> v = r.getList(1);
    float[] out = new float[v.size()];
    for (int i = 0; i < out.length; i++) {
      out[i] = ((Number) v.get(i)).floatValue();
    }
    return out;
  }

  /**
   * Asserts the two embeddings tables hold the same rows: same ids, models and bit-identical
   * vectors, and the same row order in the files (both are sorted by passage_id).
   */
  static void assertSameEmbeddings(Path incremental, Path scratch) {
    List<Row> a = TestSpark.session().read().parquet(incremental.toString()).collectAsList();
    List<Row> b = TestSpark.session().read().parquet(scratch.toString()).collectAsList();
    assertEquals(b.size(), a.size(), "rows");
    for (int i = 0; i < a.size(); i++) {
      assertEquals(b.get(i).getString(0), a.get(i).getString(0), "passage_id of row " + i);
      assertEquals(b.get(i).getString(2), a.get(i).getString(2), "model of row " + i);
      assertArrayEquals(floats(b.get(i)), floats(a.get(i)), "vector of " + a.get(i).getString(0));
    }
  }

  /** Every vector stored in the shards equals the embeddings table's vector of that passage. */
  static void assertShardVectorsMatch(Path index, int shards, Map<String, Row> embeddings)
      throws IOException {
    int seen = 0;
    for (int s = 0; s < shards; s++) {
      try (FSDirectory d = FSDirectory.open(index.resolve(ShardAssigner.shardDirName(s)));
          DirectoryReader r = DirectoryReader.open(d)) {
        for (LeafReaderContext leaf : r.leaves()) {
          StoredFields stored = leaf.reader().storedFields();
          FloatVectorValues v = leaf.reader().getFloatVectorValues(ShardFields.VECTOR);
          for (int doc = v.nextDoc(); doc != DocIdSetIterator.NO_MORE_DOCS; doc = v.nextDoc()) {
            String id = stored.document(doc).get(ShardFields.PASSAGE_ID);
            Row e = embeddings.get(id);
            assertTrue(e != null, "shard " + s + " holds " + id + ", which has no embedding");
            assertArrayEquals(floats(e), v.vectorValue(), "shard vector of " + id);
            seen++;
          }
        }
      }
    }
    assertEquals(embeddings.size(), seen, "vectors in the shards");
  }

  /**
   * Top-20 (fewer when fewer passages share a term with the query) of every query from both
   * indexes: BM25 lists equal id for id with identical scores (corpus-wide statistics exact after
   * the in-place update); dense lists hold the same passages.
   */
  static void assertSameRankings(Path incremental, Path scratch, List<String> queries) {
    RetrieveSettings bm25 = RetrieveSettings.defaults().withMode(RetrieveSettings.Mode.BM25);
    RetrieveSettings dense = RetrieveSettings.defaults().withMode(RetrieveSettings.Mode.DENSE);
    try (Retriever a = Retriever.open(incremental, bm25);
        Retriever b = Retriever.open(scratch, bm25)) {
      for (String q : queries) {
        List<Hit> x = a.search(q, null);
        List<Hit> y = b.search(q, null);
        assertTrue(!y.isEmpty() && y.size() <= 20, q + ": " + y.size() + " hits");
        assertEquals(ids(y), ids(x), "BM25 top-20 of " + q);
        assertEquals(
            y.stream().map(Hit::score).toList(),
            x.stream().map(Hit::score).toList(),
            "BM25 scores of " + q);
      }
    }
    try (Encoder enc = Encoders.open(EmbedSettings.bundledMiniLm(512));
        Retriever a = Retriever.open(incremental, dense);
        Retriever b = Retriever.open(scratch, dense)) {
      float[][] vectors = enc.encode(queries, Encoder.Role.QUERY).vectors();
      for (int i = 0; i < queries.size(); i++) {
        assertEquals(
            ids(b.search(queries.get(i), vectors[i])),
            ids(a.search(queries.get(i), vectors[i])),
            "dense top-20 of " + queries.get(i));
      }
    }
  }

  private static List<String> ids(List<Hit> hits) {
    return hits.stream().map(Hit::passageId).toList();
  }

  private static String quote(String s) {
    return s.contains("\"") || s.contains("\t") ? "\"" + s.replace("\"", "\"\"") + "\"" : s;
  }

  static String unquote(String s) {
    if (s.length() >= 2 && s.startsWith("\"") && s.endsWith("\"")) {
      return s.substring(1, s.length() - 1).replace("\"\"", "\"");
    }
    return s;
  }
}
