package dev.editforge.encoders;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

class OnnxMiniLmEncoderTest {
  private static OnnxMiniLmEncoder encoder;

  @BeforeAll
  static void load() {
    encoder = OnnxMiniLmEncoder.load(64, 4, 4096, 1);
  }

  @AfterAll
  static void close() {
    encoder.close();
  }

  static double cosine(float[] a, float[] b) {
    return VectorSimilarity.COSINE.compare(a, b);
  }

  @Test
  void describesItself() {
    assertEquals(384, encoder.dimension());
    assertEquals(VectorSimilarity.COSINE, encoder.similarity());
    assertEquals(OnnxMiniLmEncoder.MODEL_NAME, encoder.modelName());
  }

  @Test
  void vectorsAreUnitLengthAndCarryMeaning() {
    float[][] v =
        encoder.embedPassages(
            List.of(
                "The cat sat on the mat.",
                "A kitten is resting on a rug.",
                "Quarterly revenue grew by eight percent."));
    for (float[] x : v) {
      assertEquals(384, x.length);
      assertEquals(1.0, Math.sqrt(VectorSimilarity.DOT_PRODUCT.compare(x, x)), 1e-5);
    }
    double related = cosine(v[0], v[1]);
    double unrelated = cosine(v[0], v[2]);
    assertTrue(related > unrelated + 0.3, "related " + related + " vs unrelated " + unrelated);
  }

  @Test
  void paddingAndBatchOrderDoNotChangeAVector() {
    List<String> texts = new ArrayList<>();
    texts.add("Short one.");
    texts.add(
        "A considerably longer sentence that forces the short ones in its batch to be padded a lot.");
    for (int i = 0; i < 9; i++) {
      texts.add("Filler sentence number " + i + " about rivers and mountains.");
    }
    float[][] together = encoder.embedPassages(texts);
    for (int i : new int[] {0, 1, 7}) {
      float[] alone = encoder.embedPassages(List.of(texts.get(i)))[0];
      assertTrue(1 - cosine(alone, together[i]) < 1e-6, "text " + i + " changed with its batch");
    }
  }

  @Test
  void emptyTextsAreRejectedWithAReasonAndTheRestStillEmbedded() {
    EncodedBatch b =
        encoder.encode(
            Arrays.asList("fine text", "", null, "   ", "also fine"), Encoder.Role.PASSAGE);
    assertEquals(3, b.rejectedCount());
    assertNotNull(b.vectors()[0]);
    assertNotNull(b.vectors()[4]);
    assertNull(b.vectors()[1]);
    assertTrue(b.rejections()[2].startsWith("empty text"));
    EmbeddingException e =
        assertThrows(EmbeddingException.class, () -> encoder.embedQueries(List.of("ok", "")));
    assertTrue(e.getMessage().contains("text 1 of 2"), e.getMessage());
  }

  @Test
  void overLongTextsAreTruncatedAndCounted() {
    String longText = "word ".repeat(200);
    EncodedBatch b = encoder.encode(List.of(longText, "short"), Encoder.Role.PASSAGE);
    assertEquals(1, b.truncatedCount());
    assertTrue(b.truncated()[0]);
    assertFalse(b.truncated()[1]);
    // 64 tokens for the long text and 3 ([CLS] short [SEP]) for the short one.
    assertEquals(67, b.tokens());
    assertEquals(128, b.paddedTokens());
    // The cut text embeds like its first 62 words, because only those reach the model.
    float[] cut = encoder.embedPassages(List.of("word ".repeat(62)))[0];
    assertTrue(1 - cosine(cut, b.vectors()[0]) < 1e-6);
  }

  @Test
  void concurrentCallsOnOneEncoderGiveTheSameVectorsAsSequentialOnes() throws Exception {
    List<List<String>> work = new ArrayList<>();
    for (int t = 0; t < 4; t++) {
      List<String> texts = new ArrayList<>();
      for (int i = 0; i < 6; i++) {
        texts.add("thread " + t + " text " + i + " " + "about lakes and rivers ".repeat(i + 1));
      }
      work.add(texts);
    }
    List<float[][]> sequential = new ArrayList<>();
    for (List<String> w : work) {
      sequential.add(encoder.embedPassages(w));
    }
    java.util.concurrent.ExecutorService pool =
        java.util.concurrent.Executors.newFixedThreadPool(4);
    try {
      List<java.util.concurrent.Future<float[][]>> futures = new ArrayList<>();
      for (List<String> w : work) {
        futures.add(pool.submit(() -> encoder.embedPassages(w)));
      }
      for (int t = 0; t < work.size(); t++) {
        float[][] got = futures.get(t).get();
        for (int i = 0; i < got.length; i++) {
          assertTrue(1 - cosine(got[i], sequential.get(t)[i]) < 1e-6, "thread " + t + " text " + i);
        }
      }
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void maxLengthBeyondThePositionTableIsRefusedAtLoad() {
    EmbeddingException e =
        assertThrows(EmbeddingException.class, () -> OnnxMiniLmEncoder.load(1024, 8, 4096, 1));
    assertTrue(e.getMessage().contains("512"), e.getMessage());
  }
}
