package dev.editforge.embed;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import dev.editforge.config.ConfigReader;
import dev.editforge.config.EmbedSettings;
import dev.editforge.config.IndexSettings;
import dev.editforge.config.RetrieveSettings;
import dev.editforge.config.SettingsException;
import dev.editforge.encoders.BertEncoder;
import dev.editforge.encoders.EmbeddingException;
import dev.editforge.encoders.Encoder;
import dev.editforge.encoders.EncoderPreset;
import dev.editforge.encoders.Pooling;
import dev.editforge.encoders.VectorSimilarity;
import dev.editforge.lucene.Fusion;
import dev.editforge.lucene.TextAnalyzer;
import dev.editforge.lucene.VectorQuantization;
import dev.editforge.spark.Encoders;
import org.junit.jupiter.api.Test;

/**
 * The documented HOCON blocks parse into the settings the code uses, and bad values name their key.
 */
class RetrievalSettingsTest {
  static final Config BLOCKS = ConfigFactory.parseResources("reference.conf");

  static ConfigReader reader(String section, String overrides) {
    Config c = ConfigFactory.parseString(overrides).withFallback(BLOCKS).resolve();
    return new ConfigReader(c.getConfig("editforge." + section), "editforge." + section);
  }

  @Test
  void documentedDefaultsParse() {
    EmbedSettings e = EmbedSettings.from(reader("embed", ""));
    assertEquals(EmbedSettings.BUNDLED_MINILM, e.model());
    assertEquals(EmbedSettings.Engine.ONNX, e.engine());
    assertEquals(EncoderPreset.MINILM, e.preset());
    assertEquals(512, e.maxLength());
    assertEquals(384, e.dimension());

    IndexSettings i = IndexSettings.from(reader("index", ""));
    assertEquals(IndexSettings.defaults(8), i);
    assertEquals(TextAnalyzer.ENGLISH, i.analyzer());
    assertNull(i.vectorSimilarity());

    RetrieveSettings r = RetrieveSettings.from(reader("retrieve", ""));
    assertEquals(RetrieveSettings.defaults(), r);
  }

  @Test
  void overridesAreHonoured() {
    IndexSettings i =
        IndexSettings.from(
            reader(
                "index",
                "editforge.index { quantization = int8, analyzer = standard, vector-similarity = dot-product, hnsw.m = 32 }"));
    assertEquals(VectorQuantization.INT8, i.quantization());
    assertEquals(TextAnalyzer.STANDARD, i.analyzer());
    assertEquals(VectorSimilarity.DOT_PRODUCT, i.vectorSimilarity());
    assertEquals(32, i.hnswM());
    RetrieveSettings r =
        RetrieveSettings.from(
            reader("retrieve", "editforge.retrieve { fusion = linear, mode = bm25 }"));
    assertEquals(Fusion.Mode.LINEAR, r.fusion());
    assertEquals(RetrieveSettings.Mode.BM25, r.mode());
    EmbedSettings e =
        EmbedSettings.from(
            reader(
                "embed",
                "editforge.embed { engine = pytorch, model = \"/models/contriever-msmarco\", preset = contriever-msmarco, device = \"gpu:1\", dimension = 768 }"));
    assertEquals(VectorSimilarity.MAXIMUM_INNER_PRODUCT, e.preset().similarity());
    assertEquals("gpu:1", e.device());
  }

  @Test
  void badValuesNameTheirKey() {
    SettingsException a =
        assertThrows(
            SettingsException.class,
            () -> EmbedSettings.from(reader("embed", "editforge.embed.preset = e6")));
    assertEquals("editforge.embed.preset", a.key());
    SettingsException b =
        assertThrows(
            SettingsException.class,
            () -> EmbedSettings.from(reader("embed", "editforge.embed.model = \"/some/dir\"")));
    assertTrue(b.getMessage().contains("engine = pytorch"), b.getMessage());
    SettingsException c =
        assertThrows(
            SettingsException.class,
            () -> RetrieveSettings.from(reader("retrieve", "editforge.retrieve { k = 200 }")));
    assertEquals("editforge.retrieve.candidates", c.key());
    SettingsException d =
        assertThrows(
            SettingsException.class,
            () ->
                IndexSettings.from(reader("index", "editforge.index.vector-similarity = euclid")));
    assertEquals("editforge.index.vector-similarity", d.key());
    SettingsException f =
        assertThrows(
            SettingsException.class,
            () -> IndexSettings.from(reader("index", "editforge.index.quantization = int4")));
    assertEquals("editforge.index.quantization", f.key());
  }

  @Test
  void anEncoderWhoseDimensionDisagreesWithTheConfigIsRefusedBeforeAnyWork() {
    EmbedSettings s =
        EmbedSettings.from(reader("embed", "editforge.embed { dimension = 768, max-length = 64 }"));
    EmbeddingException e = assertThrows(EmbeddingException.class, () -> Encoders.open(s));
    assertTrue(
        e.getMessage().contains("384-dimensional") && e.getMessage().contains("768"),
        e.getMessage());
  }

  @Test
  void theBundledModelAlsoOpensOnThePytorchEngine() {
    EmbedSettings s =
        EmbedSettings.from(
            reader("embed", "editforge.embed { engine = pytorch, max-length = 64 }"));
    try (Encoder nativeEnc = Encoders.open(s);
        Encoder onnx =
            Encoders.open(EmbedSettings.from(reader("embed", "editforge.embed.max-length = 64")))) {
      assertTrue(nativeEnc instanceof BertEncoder);
      float[] a = nativeEnc.embedQueries(java.util.List.of("Which river flows through Paris?"))[0];
      float[] b = onnx.embedQueries(java.util.List.of("Which river flows through Paris?"))[0];
      assertTrue(1 - VectorSimilarity.COSINE.compare(a, b) < 1e-4);
    }
  }

  @Test
  void presetsCarryTheirModelsConventions() {
    assertEquals(
        VectorSimilarity.MAXIMUM_INNER_PRODUCT,
        EncoderPreset.named("contriever-msmarco").similarity());
    assertEquals(false, EncoderPreset.named("contriever").normalize());
    assertEquals("query: what", EncoderPreset.E5.queryText("what"));
    assertEquals("passage: text", EncoderPreset.E5.passageText("text"));
    assertEquals(Pooling.CLS, EncoderPreset.BGE.pooling());
    assertTrue(
        EncoderPreset.BGE.queryText("q").startsWith("Represent this sentence")
            && EncoderPreset.BGE.passageText("p").equals("p"));
    assertEquals("Title text", EncoderPreset.passageInput("Title", "text"));
    assertEquals("text", EncoderPreset.passageInput(null, "text"));
    assertThrows(IllegalArgumentException.class, () -> EncoderPreset.named("nope"));
    assertThrows(
        IllegalArgumentException.class,
        () ->
            new EncoderPreset(
                "bad", Pooling.MEAN, false, "", "", "", VectorSimilarity.DOT_PRODUCT));
  }
}
