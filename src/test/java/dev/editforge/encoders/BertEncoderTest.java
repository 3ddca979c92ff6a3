package dev.editforge.encoders;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The native PyTorch BERT must reproduce the ONNX model it was converted from: same weights
 * (extracted from the ONNX initializers), same tokenizer, so any difference is a bug in the forward
 * pass, the weight mapping or the pooling.
 */
class BertEncoderTest {
  @TempDir static Path exportDir;
  private static OnnxMiniLmEncoder onnx;
  private static BertEncoder bert;

  @BeforeAll
  static void load() {
    onnx = OnnxMiniLmEncoder.load(48, 4, 4096, 1);
    bert = BertEncoder.bundledMiniLm(exportDir.resolve("minilm"), 48, 4, 4096, Device.cpu(), 0);
  }

  @AfterAll
  static void close() {
    onnx.close();
    bert.close();
  }

  @Test
  void exportHasHuggingFaceLayoutAndNames() throws Exception {
    Path dir = exportDir.resolve("minilm");
    for (String f : List.of("config.json", "model.safetensors", "tokenizer.json")) {
      assertTrue(Files.isRegularFile(dir.resolve(f)), f);
    }
    String config = Files.readString(dir.resolve("config.json"));
    assertTrue(
        config.contains("\"num_hidden_layers\" : 6") && config.contains("\"hidden_size\" : 384"),
        config);
    try (var ckpt = dev.editforge.llm.SafetensorsCheckpoint.open(dir)) {
      // 5 embedding tensors + 16 per layer; Linear weights are back in PyTorch's [out, in] layout.
      assertEquals(5 + 6 * 16, ckpt.names().size());
      assertEquals(
          List.of(1536L, 384L),
          java.util.Arrays.stream(ckpt.info("encoder.layer.3.intermediate.dense.weight").shape())
              .boxed()
              .toList());
    }
  }

  @Test
  void nativeVectorsMatchOnnxVectors() {
    List<String> texts =
        new ArrayList<>(
            List.of(
                "Mount Etna is an active stratovolcano on the east coast of Sicily.",
                "x",
                "Ünïcödé, accents & punctuation!? — 42 numbers: 3.14159, 1999-2001.",
                "日本語のテキストも少し",
                "Who won Super Bowl 50?",
                "word ".repeat(100)));
    float[][] a = onnx.embedPassages(texts);
    float[][] b = bert.embedPassages(texts);
    for (int i = 0; i < texts.size(); i++) {
      double distance = 1 - VectorSimilarity.COSINE.compare(a[i], b[i]);
      assertTrue(distance < 1e-4, "text " + i + ": cosine distance " + distance);
    }
    float[][] qa = onnx.embedQueries(texts.subList(0, 3));
    float[][] qb = bert.embedQueries(texts.subList(0, 3));
    for (int i = 0; i < 3; i++) {
      assertTrue(1 - VectorSimilarity.COSINE.compare(qa[i], qb[i]) < 1e-4);
    }
    assertEquals(onnx.dimension(), bert.dimension());
    assertEquals(onnx.modelName(), bert.modelName());
  }

  @Test
  void presetPrefixesReachTheModel() {
    try (BertEncoder e5 =
        BertEncoder.load(
            exportDir.resolve("minilm"),
            EncoderPreset.E5,
            48,
            4,
            4096,
            Device.cpu(),
            0,
            "e5-test")) {
      float[] query = e5.embedQueries(List.of("where is Etna"))[0];
      float[] passage = e5.embedPassages(List.of("where is Etna"))[0];
      float[] manual = bert.embedPassages(List.of("query: where is Etna"))[0];
      assertTrue(
          1 - VectorSimilarity.COSINE.compare(query, manual) < 1e-6, "query gets \"query: \"");
      assertTrue(
          1 - VectorSimilarity.COSINE.compare(query, passage) > 1e-3,
          "passages get another prefix");
    }
  }

  @Test
  void clsPoolingTakesTheFirstPositionAndMeanIgnoresPadding() {
    float[] states = {1, 2, 3, 4, 100, 100, 9, 9, 8, 8, 7, 7}; // [batch 2, seq 3, hidden 2]
    assertEquals(List.of(1f, 2f), toList(TransformerEncoder.pool(states, 0, 3, 2, 2, Pooling.CLS)));
    assertEquals(
        List.of(2f, 3f), toList(TransformerEncoder.pool(states, 0, 3, 2, 2, Pooling.MEAN)));
    assertEquals(
        List.of(8f, 8f), toList(TransformerEncoder.pool(states, 1, 3, 3, 2, Pooling.MEAN)));
    float[] nan = {1, Float.NaN};
    assertTrue(TransformerEncoder.finish(nan, true).startsWith("non-finite"));
    assertTrue(TransformerEncoder.finish(new float[2], true).startsWith("zero vector"));
  }

  @Test
  void pickleOnlyDirectoriesAreRefused(@TempDir Path dir) throws Exception {
    Files.writeString(dir.resolve("pytorch_model.bin"), "not really");
    EmbeddingException e =
        assertThrows(
            EmbeddingException.class,
            () -> BertEncoder.load(dir, EncoderPreset.MINILM, 32, 4, 1024, Device.cpu(), 0, null));
    assertTrue(e.getMessage().contains("pickle"), e.getMessage());
  }

  @Test
  void aConfigThatDisagreesWithTheWeightsIsRefusedWithTheTensorName(@TempDir Path dir)
      throws Exception {
    Path src = exportDir.resolve("minilm");
    Files.createSymbolicLink(dir.resolve("model.safetensors"), src.resolve("model.safetensors"));
    Files.copy(src.resolve("tokenizer.json"), dir.resolve("tokenizer.json"));
    Files.writeString(
        dir.resolve("config.json"),
        Files.readString(src.resolve("config.json"))
            .replace("\"intermediate_size\" : 1536", "\"intermediate_size\" : 1024"));
    EmbeddingException e =
        assertThrows(
            EmbeddingException.class,
            () -> BertEncoder.load(dir, EncoderPreset.MINILM, 32, 4, 1024, Device.cpu(), 0, null));
    assertTrue(e.getMessage().contains("intermediate.dense.weight"), e.getMessage());
  }

  private static List<Float> toList(float[] v) {
    List<Float> l = new ArrayList<>();
    for (float x : v) {
      l.add(x);
    }
    return l;
  }
}
