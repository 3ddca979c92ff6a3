package dev.editforge.retrieve;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.config.IndexSettings;
import dev.editforge.config.RetrieveSettings;
import dev.editforge.encoders.EncodedBatch;
import dev.editforge.encoders.Encoder;
import dev.editforge.encoders.EncoderPreset;
import dev.editforge.encoders.VectorSimilarity;
import dev.editforge.index.EncoderInfo;
import dev.editforge.index.IndexBuilder;
import dev.editforge.index.IndexedPassage;
import dev.editforge.index.TestCorpus;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RetrieverTest {
  static final int DIM = 16;

  /**
   * An encoder that only describes itself; the retriever must refuse mismatches before encoding.
   */
  record FakeEncoder(String modelName, EncoderPreset preset, int dimension) implements Encoder {
    @Override
    public EncodedBatch encode(List<String> texts, Role role) {
      throw new AssertionError("must not encode");
    }

    @Override
    public int maxLength() {
      return 512;
    }

    @Override
    public void close() {}
  }

  static List<IndexedPassage> build(Path dir, IndexSettings s) {
    List<IndexedPassage> ps = TestCorpus.passages(120, DIM, true, 11);
    EncoderInfo enc = new EncoderInfo("test-model", "minilm", DIM, VectorSimilarity.COSINE);
    try (IndexBuilder b = new IndexBuilder(dir, s, enc)) {
      ps.forEach(b::add);
      b.finish();
    }
    return ps;
  }

  @Test
  void eachModeAnswersWithKHitsAndHybridCombinesBoth(@TempDir Path dir) {
    List<IndexedPassage> ps = build(dir, IndexSettings.defaults(3));
    // The text names passage 40; the vector is passage 41's: each retriever alone finds one of
    // them.
    String q = "w40";
    float[] v = ps.get(41).vector();
    RetrieveSettings base = RetrieveSettings.defaults().withK(5);
    try (Retriever bm25 = Retriever.open(dir, base.withMode(RetrieveSettings.Mode.BM25));
        Retriever dense = Retriever.open(dir, base.withMode(RetrieveSettings.Mode.DENSE));
        Retriever hybrid = Retriever.open(dir, base)) {
      assertEquals("pid-40", bm25.search(q, null).get(0).passageId());
      assertEquals("pid-41", dense.search(q, v).get(0).passageId());
      List<Hit> h = hybrid.search(q, v);
      assertEquals(5, h.size());
      List<String> top2 = h.subList(0, 2).stream().map(Hit::passageId).sorted().toList();
      assertEquals(List.of("pid-40", "pid-41"), top2);
      assertThrows(IllegalArgumentException.class, () -> hybrid.search(q, null));
    }
  }

  @Test
  void aQueryEncoderFromAnotherSpaceIsRefused(@TempDir Path dir) {
    build(dir, IndexSettings.defaults(1));
    try (Retriever r = Retriever.open(dir, RetrieveSettings.defaults())) {
      r.checkEncoder(new FakeEncoder("test-model", EncoderPreset.MINILM, DIM));
      IllegalArgumentException dim =
          assertThrows(
              IllegalArgumentException.class,
              () -> r.checkEncoder(new FakeEncoder("test-model", EncoderPreset.MINILM, 384)));
      assertTrue(dim.getMessage().contains("384-dimensional"), dim.getMessage());
      IllegalArgumentException model =
          assertThrows(
              IllegalArgumentException.class,
              () -> r.checkEncoder(new FakeEncoder("other-model", EncoderPreset.MINILM, DIM)));
      assertTrue(model.getMessage().contains("other-model"), model.getMessage());
      assertThrows(
          IllegalArgumentException.class,
          () -> r.checkEncoder(new FakeEncoder("test-model", EncoderPreset.E5, DIM)));
    }
  }

  @Test
  void denseModesNeedAnIndexWithVectors(@TempDir Path dir) {
    IndexSettings noVectors =
        new IndexSettings(
            2,
            dev.editforge.lucene.TextAnalyzer.ENGLISH,
            1.2f,
            0.75f,
            false,
            null,
            16,
            100,
            dev.editforge.lucene.VectorQuantization.NONE,
            1,
            1,
            64);
    try (IndexBuilder b = new IndexBuilder(dir, noVectors, null)) {
      TestCorpus.passages(20, DIM, true, 12).forEach(b::add);
      assertEquals(0, b.finish().dimension());
    }
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class, () -> Retriever.open(dir, RetrieveSettings.defaults()));
    assertTrue(e.getMessage().contains("BM25-only"), e.getMessage());
    try (Retriever r =
        Retriever.open(dir, RetrieveSettings.defaults().withMode(RetrieveSettings.Mode.BM25))) {
      assertEquals("pid-7", r.search("w7", null).get(0).passageId());
    }
  }
}
