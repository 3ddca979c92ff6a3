package dev.editforge.cli;

import com.fasterxml.jackson.databind.JsonNode;
import dev.editforge.config.IndexSettings;
import dev.editforge.encoders.EncodedBatch;
import dev.editforge.encoders.Encoder;
import dev.editforge.encoders.EncoderPreset;
import dev.editforge.encoders.VectorSimilarity;
import dev.editforge.index.EncoderInfo;
import dev.editforge.index.IndexBuilder;
import dev.editforge.index.IndexedPassage;
import dev.editforge.lucene.DocRef;
import dev.editforge.lucene.Fusion;
import dev.editforge.lucene.IndexManifest;
import dev.editforge.lucene.VectorQuantization;
import dev.editforge.retrieve.RetrievalMetrics;
import dev.editforge.retrieve.ShardSet;
import dev.editforge.text.Json;
import java.io.IOException;
import java.io.PrintStream;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * The logic behind {@code editforge bench retrieval}:
 *
 * <ol>
 *   <li>{@link #bareEmbedPassagesPerSecond}: the single-JVM embedding loop the Spark stage is
 *       compared against;
 *   <li>{@link #hnswRecall}: HNSW recall@10 against exact brute force on the same clustered random
 *       vectors, fp32 and int8, with index bytes and queries/s;
 *   <li>{@link #squad}: SQuAD-dev retrieval (corpus = the 2,067 contexts, queries = the 10,570
 *       questions, gold = the question's own context), top-1/5/20 for BM25, dense and fusions.
 * </ol>
 *
 * Prints readable tables and returns the numbers; the caller writes the {@code BENCH} line.
 */
public final class RetrievalBench {
  private RetrievalBench() {}

  /** One HNSW variant against exact search. */
  public record HnswResult(
      String variant,
      int vectors,
      int dimension,
      int queries,
      double recallAt10,
      double recallAt10AskingTen,
      long indexBytes,
      long searchedBytes,
      double queriesPerSecond,
      double buildSeconds) {}

  /** Gold-context top-k accuracy of one retrieval mode, as ratios. */
  public record ModeResult(
      String mode, double top1, double top5, double top20, double queriesPerSecond) {}

  public record SquadResult(
      int passages,
      int questions,
      int maxLength,
      double passagesPerSecond,
      double queriesPerSecond,
      int truncatedPassages,
      double paddingOverhead,
      List<ModeResult> modes) {

    public ModeResult mode(String name) {
      return modes.stream().filter(m -> m.mode().equals(name)).findFirst().orElseThrow();
    }
  }

  /** Everything measured; {@code squad} is null when the shared SQuAD file was absent. */
  public record Result(HnswResult fp32, HnswResult int8, SquadResult squad) {
    /** Flat {@code key -> number} pairs for the {@code BENCH retrieval ...} line. */
    public Map<String, Object> benchFields() {
      Map<String, Object> f = new LinkedHashMap<>();
      for (HnswResult h : List.of(fp32, int8)) {
        f.put("hnsw_" + h.variant() + "_recall10", round(h.recallAt10(), 4));
        f.put("hnsw_" + h.variant() + "_bytes", h.indexBytes());
        f.put("hnsw_" + h.variant() + "_searched_bytes", h.searchedBytes());
        f.put("hnsw_" + h.variant() + "_qps", round(h.queriesPerSecond(), 1));
      }
      if (squad != null) {
        f.put("squad_passages_per_s", round(squad.passagesPerSecond(), 1));
        f.put("squad_queries_per_s", round(squad.queriesPerSecond(), 1));
        for (ModeResult m : squad.modes()) {
          String k = m.mode().replaceAll("[^a-z0-9]+", "_");
          f.put("squad_" + k + "_top1", round(m.top1(), 4));
          f.put("squad_" + k + "_top5", round(m.top5(), 4));
          f.put("squad_" + k + "_top20", round(m.top20(), 4));
        }
      }
      return f;
    }
  }

  // ---------------------------------------------------------------- (1) bare embedding loop

  /**
   * Passages per second of the plainest possible loop: one {@link Encoder#encode} call per chunk of
   * 256 texts in one JVM, after a warm-up call, with no Spark, serialization or I/O around it.
   */
  public static double bareEmbedPassagesPerSecond(Encoder encoder, List<String> passages) {
    if (passages.isEmpty()) {
      throw new IllegalArgumentException("no passages to time");
    }
    encoder.encode(passages.subList(0, Math.min(16, passages.size())), Encoder.Role.PASSAGE);
    long t0 = System.nanoTime();
    for (int i = 0; i < passages.size(); i += 256) {
      encoder.encode(passages.subList(i, Math.min(passages.size(), i + 256)), Encoder.Role.PASSAGE);
    }
    return passages.size() / ((System.nanoTime() - t0) / 1e9);
  }

  // ---------------------------------------------------------------- (2) HNSW recall

  /**
   * Clustered unit vectors (Gaussian clusters, like real embeddings rather than uniform noise),
   * indexed once per variant into one shard; queries are fresh points from the same clusters.
   * Recall@10 is measured the way retrieval runs it (HNSW asked for 100, best 10 kept) and, for
   * reference, asking HNSW for only 10.
   */
  public static List<HnswResult> hnswRecall(
      Path workDir, int n, int dim, int queries, long seed, PrintStream out) {
    Random rnd = new Random(seed);
    int clusters = Math.max(8, n / 400);
    float[][] centres = new float[clusters][dim];
    for (float[] c : centres) {
      for (int d = 0; d < dim; d++) {
        c[d] = (float) rnd.nextGaussian();
      }
    }
    float[][] data = clustered(centres, n, dim, rnd);
    float[][] qs = clustered(centres, queries, dim, rnd);
    int[][] exact = new int[queries][];
    long te = System.nanoTime();
    for (int q = 0; q < queries; q++) {
      exact[q] = bruteForceTop(qs[q], data, 10);
    }
    double exactSeconds = (System.nanoTime() - te) / 1e9;

    List<HnswResult> results = new ArrayList<>();
    for (VectorQuantization vq : List.of(VectorQuantization.NONE, VectorQuantization.INT8)) {
      String variant = vq == VectorQuantization.NONE ? "fp32" : "int8";
      Path dir = workDir.resolve("hnsw-" + variant);
      IndexSettings s = IndexSettings.defaults(1).withQuantization(vq);
      long tb = System.nanoTime();
      try (IndexBuilder b =
          new IndexBuilder(
              dir, s, new EncoderInfo("random", "minilm", dim, VectorSimilarity.COSINE))) {
        for (int i = 0; i < n; i++) {
          b.add(new IndexedPassage("v" + i, null, "", "", data[i]));
        }
        b.finish();
      }
      double build = (System.nanoTime() - tb) / 1e9;
      try (ShardSet set = ShardSet.open(dir, false, true)) {
        Map<Integer, Integer> docToId = docToVectorIndex(set);
        double r100 = 0;
        double r10 = 0;
        for (int q = 0; q < queries; q++) {
          r100 += overlap(exact[q], set.dense(qs[q], 10, 100), docToId);
        }
        long tq = System.nanoTime();
        for (int q = 0; q < queries; q++) {
          set.dense(qs[q], 10, 100);
        }
        double qps = queries / ((System.nanoTime() - tq) / 1e9);
        for (int q = 0; q < queries; q++) {
          r10 += overlap(exact[q], set.dense(qs[q], 10, 10), docToId);
        }
        long bytes = IndexManifest.read(dir).shards().get(0).bytes();
        long searched = searchedVectorBytes(dir.resolve("shard-00000"), vq);
        results.add(
            new HnswResult(
                variant,
                n,
                dim,
                queries,
                r100 / queries / 10,
                r10 / queries / 10,
                bytes,
                searched,
                qps,
                build));
      }
    }
    out.printf(
        Locale.ROOT,
        "%nHNSW recall@10 vs exact (%d clustered unit vectors, dim %d, %d queries; exact scan %.1f q/s)%n",
        n,
        dim,
        queries,
        queries / exactSeconds);
    out.printf(
        Locale.ROOT,
        "%-8s %10s %14s %13s %15s %10s %8s%n",
        "variant",
        "recall@10",
        "(asking k=10)",
        "index bytes",
        "searched bytes",
        "queries/s",
        "build s");
    for (HnswResult r : results) {
      out.printf(
          Locale.ROOT,
          "%-8s %10.4f %14.4f %13d %15d %10.1f %8.1f%n",
          r.variant(),
          r.recallAt10(),
          r.recallAt10AskingTen(),
          r.indexBytes(),
          r.searchedBytes(),
          r.queriesPerSecond(),
          r.buildSeconds());
    }
    out.println(
        "searched bytes = HNSW graph + the vectors it scores (int8 shards also keep the raw floats, read"
            + " only to re-rank the 100 candidates)");
    return results;
  }

  /**
   * Bytes of the HNSW graph (.vex) plus the vectors graph search reads (.veq when quantized, else
   * .vec).
   */
  static long searchedVectorBytes(Path shardDir, VectorQuantization vq) {
    String vectors = vq == VectorQuantization.NONE ? ".vec" : ".veq";
    try (var files = Files.list(shardDir)) {
      return files
          .filter(
              p ->
                  p.getFileName().toString().endsWith(".vex")
                      || p.getFileName().toString().endsWith(vectors))
          .mapToLong(p -> p.toFile().length())
          .sum();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  private static float[][] clustered(float[][] centres, int n, int dim, Random rnd) {
    float[][] out = new float[n][dim];
    for (int i = 0; i < n; i++) {
      float[] c = centres[rnd.nextInt(centres.length)];
      double norm = 0;
      for (int d = 0; d < dim; d++) {
        out[i][d] = c[d] + 0.6f * (float) rnd.nextGaussian();
        norm += out[i][d] * out[i][d];
      }
      float inv = (float) (1 / Math.sqrt(norm));
      for (int d = 0; d < dim; d++) {
        out[i][d] *= inv;
      }
    }
    return out;
  }

  private static int[] bruteForceTop(float[] q, float[][] data, int k) {
    int[] best = new int[k];
    double[] scores = new double[k];
    java.util.Arrays.fill(scores, Double.NEGATIVE_INFINITY);
    for (int i = 0; i < data.length; i++) {
      double s = 0;
      float[] v = data[i];
      for (int d = 0; d < v.length; d++) {
        s += q[d] * v[d];
      }
      if (s > scores[k - 1]) {
        int j = k - 1;
        while (j > 0 && scores[j - 1] < s) {
          scores[j] = scores[j - 1];
          best[j] = best[j - 1];
          j--;
        }
        scores[j] = s;
        best[j] = i;
      }
    }
    return best;
  }

  private static Map<Integer, Integer> docToVectorIndex(ShardSet set) {
    Map<Integer, Integer> m = new HashMap<>();
    for (int doc = 0; doc < set.numDocs(); doc++) {
      m.put(doc, Integer.parseInt(set.load(new DocRef(0, doc, 0)).passageId().substring(1)));
    }
    return m;
  }

  private static int overlap(int[] exact, List<DocRef> found, Map<Integer, Integer> docToId) {
    Set<Integer> e = new java.util.HashSet<>();
    for (int x : exact) {
      e.add(x);
    }
    int hit = 0;
    for (DocRef r : found) {
      if (e.contains(docToId.get(r.doc()))) {
        hit++;
      }
    }
    return hit;
  }

  // ---------------------------------------------------------------- (3) SQuAD-dev

  /** A SQuAD context with its questions, in SEAL's simplified shape. */
  record Article(String title, String context, List<String> questions) {}

  static List<Article> loadSquad(Path file) {
    try {
      JsonNode root = Json.MAPPER.readTree(file.toFile());
      List<Article> out = new ArrayList<>();
      for (JsonNode a : root) {
        List<String> qs = new ArrayList<>();
        for (JsonNode q : a.path("questions")) {
          qs.add(q.path("question").asText());
        }
        out.add(new Article(a.path("title").asText(), a.path("context").asText(), qs));
      }
      return out;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read " + file, e);
    }
  }

  /**
   * SQuAD-dev retrieval with {@code encoder} (passages as {@code title + " " + context}, the
   * Self-RAG convention), BM25 with the default English analyzer over 4 shards with corpus-wide
   * statistics, and HNSW asked for 100 candidates.
   */
  public static SquadResult squad(Path squadJson, Path workDir, Encoder encoder, PrintStream out) {
    List<Article> articles = loadSquad(squadJson);
    List<String> passageTexts = new ArrayList<>();
    for (Article a : articles) {
      passageTexts.add(EncoderPreset.passageInput(a.title(), a.context()));
    }
    encoder.encode(passageTexts.subList(0, 8), Encoder.Role.PASSAGE);
    long t0 = System.nanoTime();
    EncodedBatch pb = encoder.encode(passageTexts, Encoder.Role.PASSAGE);
    double pSeconds = (System.nanoTime() - t0) / 1e9;
    float[][] pv = pb.vectorsOrThrow();

    List<String> questions = new ArrayList<>();
    List<Integer> gold = new ArrayList<>();
    for (int i = 0; i < articles.size(); i++) {
      for (String q : articles.get(i).questions()) {
        questions.add(q);
        gold.add(i);
      }
    }
    long t1 = System.nanoTime();
    float[][] qv = encoder.encode(questions, Encoder.Role.QUERY).vectorsOrThrow();
    double qSeconds = (System.nanoTime() - t1) / 1e9;

    Path dir = workDir.resolve("squad-index");
    IndexSettings settings = IndexSettings.defaults(4);
    try (IndexBuilder b = new IndexBuilder(dir, settings, EncoderInfo.of(encoder, settings))) {
      for (int i = 0; i < articles.size(); i++) {
        b.add(
            new IndexedPassage(
                "ctx-" + i,
                Integer.toString(i),
                articles.get(i).title(),
                articles.get(i).context(),
                pv[i]));
      }
      b.finish();
    }

    Map<String, Fusion> fusions = new LinkedHashMap<>();
    fusions.put("hybrid-rrf60", Fusion.rrf(60));
    fusions.put("hybrid-rrf10", Fusion.rrf(10));
    fusions.put("hybrid-linear0.5", Fusion.linear(0.5));
    List<ModeResult> modes = new ArrayList<>();
    try (ShardSet set = ShardSet.open(dir, true, true)) {
      Map<Long, String> idOf = new HashMap<>();
      int[] ks = {1, 5, 20};
      Map<String, RetrievalMetrics> metrics = new LinkedHashMap<>();
      Map<String, Long> nanos = new LinkedHashMap<>();
      for (String m : List.of("bm25", "dense")) {
        metrics.put(m, new RetrievalMetrics(ks));
        nanos.put(m, 0L);
      }
      for (String m : fusions.keySet()) {
        metrics.put(m, new RetrievalMetrics(ks));
        nanos.put(m, 0L);
      }
      for (int q = 0; q < questions.size(); q++) {
        Set<String> g = Set.of("ctx-" + gold.get(q));
        long a = System.nanoTime();
        List<DocRef> sparse = set.bm25(questions.get(q), 100);
        long b = System.nanoTime();
        List<DocRef> dense = set.dense(qv[q], 100, 100);
        long c = System.nanoTime();
        nanos.merge("bm25", b - a, Long::sum);
        nanos.merge("dense", c - b, Long::sum);
        metrics.get("bm25").add(ids(sparse, 20, set, idOf), null, g);
        metrics.get("dense").add(ids(dense, 20, set, idOf), null, g);
        for (Map.Entry<String, Fusion> f : fusions.entrySet()) {
          long d = System.nanoTime();
          List<DocRef> fused = f.getValue().fuse(sparse, dense, 20);
          nanos.merge(f.getKey(), (System.nanoTime() - d) + (c - a), Long::sum);
          metrics.get(f.getKey()).add(ids(fused, 20, set, idOf), null, g);
        }
      }
      for (Map.Entry<String, RetrievalMetrics> e : metrics.entrySet()) {
        RetrievalMetrics.Report r = e.getValue().report();
        double qps = questions.size() / (nanos.get(e.getKey()) / 1e9);
        modes.add(new ModeResult(e.getKey(), r.recall(1), r.recall(5), r.recall(20), qps));
      }
    }
    SquadResult result =
        new SquadResult(
            articles.size(),
            questions.size(),
            encoder.maxLength(),
            articles.size() / pSeconds,
            questions.size() / qSeconds,
            pb.truncatedCount(),
            (double) pb.paddedTokens() / pb.tokens() - 1,
            modes);
    out.printf(
        Locale.ROOT,
        "%nSQuAD-dev retrieval: %d contexts, %d questions, gold = own context (%s, max length %d)%n",
        result.passages(),
        result.questions(),
        encoder.modelName(),
        encoder.maxLength());
    out.printf(
        Locale.ROOT,
        "embedding: %.1f passages/s (%d truncated, padding overhead %.0f%%), %.1f queries/s%n",
        result.passagesPerSecond(),
        result.truncatedPassages(),
        100 * result.paddingOverhead(),
        result.queriesPerSecond());
    out.printf(
        Locale.ROOT, "%-18s %8s %8s %8s %12s%n", "mode", "top-1", "top-5", "top-20", "search q/s");
    for (ModeResult m : modes) {
      out.printf(
          Locale.ROOT,
          "%-18s %8.1f %8.1f %8.1f %12.1f%n",
          m.mode(),
          100 * m.top1(),
          100 * m.top5(),
          100 * m.top20(),
          m.queriesPerSecond());
    }
    return result;
  }

  private static List<String> ids(List<DocRef> refs, int k, ShardSet set, Map<Long, String> cache) {
    List<String> out = new ArrayList<>(Math.min(k, refs.size()));
    for (int i = 0; i < Math.min(k, refs.size()); i++) {
      DocRef r = refs.get(i);
      out.add(cache.computeIfAbsent(r.key(), x -> set.load(r).passageId()));
    }
    return out;
  }

  /**
   * Runs parts (2) and, when {@code squadJson} exists, (3) under {@code workDir}.
   *
   * @param encoder used for (3); may be null when {@code squadJson} is null
   */
  public static Result run(Path workDir, Path squadJson, Encoder encoder, PrintStream out) {
    try {
      Files.createDirectories(workDir);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    List<HnswResult> hnsw = hnswRecall(workDir, 20_000, 384, 1_000, 42, out);
    SquadResult squad = null;
    if (squadJson != null && Files.isRegularFile(squadJson)) {
      squad = squad(squadJson, workDir, encoder, out);
    } else {
      out.println("\nSQuAD-dev retrieval skipped: " + squadJson + " not found");
    }
    return new Result(hnsw.get(0), hnsw.get(1), squad);
  }

  private static double round(double v, int digits) {
    double f = Math.pow(10, digits);
    return Math.round(v * f) / f;
  }
}
