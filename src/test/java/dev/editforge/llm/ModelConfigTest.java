package dev.editforge.llm;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ModelConfigTest {
  @TempDir Path dir;

  private ModelConfig parse(String config, String generation) throws IOException {
    Files.writeString(dir.resolve("config.json"), config);
    if (generation != null) {
      Files.writeString(dir.resolve("generation_config.json"), generation);
    }
    return ModelConfig.load(dir);
  }

  @Test
  void readsALlama31StyleConfigWithRopeScalingAndEosList() throws IOException {
    ModelConfig c =
        parse(
            """
        {"model_type": "llama", "vocab_size": 128256, "hidden_size": 4096, "intermediate_size": 14336,
         "num_hidden_layers": 32, "num_attention_heads": 32, "num_key_value_heads": 8,
         "rms_norm_eps": 1e-05, "rope_theta": 500000.0, "max_position_embeddings": 131072,
         "rope_scaling": {"factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0,
                          "original_max_position_embeddings": 8192, "rope_type": "llama3"},
         "tie_word_embeddings": false, "bos_token_id": 128000, "eos_token_id": [128001, 128008, 128009]}
        """,
            "{\"eos_token_id\": [128001, 128009, 128010]}");
    assertEquals(128, c.headDim(), "head_dim defaults to hidden / heads");
    assertEquals(8, c.numKeyValueHeads());
    assertEquals(new ModelConfig.RopeScaling("llama3", 8.0, 1.0, 4.0, 8192), c.ropeScaling());
    assertEquals(
        List.of(128001, 128008, 128009, 128010),
        c.eosTokenIds(),
        "config and generation config ids, once each");
    assertEquals(128000, c.bosTokenId());
    assertFalse(c.qkvBias());
    assertEquals(8_030_261_248L, c.parameterCount(), "Llama 3.1 8B's published parameter count");
  }

  @Test
  void qwen2HasQkvBiasAndTiedEmbeddingsWhenConfigured() throws IOException {
    ModelConfig c =
        parse(
            """
        {"model_type": "qwen2", "vocab_size": 151936, "hidden_size": 896, "intermediate_size": 4864,
         "num_hidden_layers": 24, "num_attention_heads": 14, "num_key_value_heads": 2, "rms_norm_eps": 1e-06,
         "rope_theta": 1000000.0, "max_position_embeddings": 32768, "tie_word_embeddings": true,
         "bos_token_id": 151643, "eos_token_id": 151645, "sliding_window": 32768, "use_sliding_window": false}
        """,
            null);
    assertTrue(c.qkvBias());
    assertFalse(c.oBias());
    assertTrue(c.tieWordEmbeddings());
    assertEquals(
        0, c.slidingWindow(), "qwen2's sliding_window only applies with use_sliding_window");
    assertEquals(64, c.headDim());
    assertNull(c.ropeScaling());
    assertEquals(494_032_768L, c.parameterCount(), "Qwen2.5-0.5B's parameter count");
  }

  @Test
  void unsupportedModelTypeNamesTheSupportedOnes() throws IOException {
    ModelLoadException e =
        assertThrows(
            ModelLoadException.class,
            () ->
                parse(
                    "{\"model_type\": \"gpt_neox\", \"vocab_size\": 10, \"hidden_size\": 8}",
                    null));
    assertTrue(e.getMessage().contains("config.json"), e.getMessage());
    assertTrue(e.getMessage().contains("\"gpt_neox\" is not supported"), e.getMessage());
    assertTrue(e.getMessage().contains("llama, qwen2, mistral, gpt2"), e.getMessage());
  }

  @Test
  void unsupportedRopeScalingIsNamed() throws IOException {
    ModelLoadException e =
        assertThrows(
            ModelLoadException.class,
            () ->
                parse(
                    """
        {"model_type": "llama", "vocab_size": 10, "hidden_size": 8, "intermediate_size": 8,
         "num_hidden_layers": 1, "num_attention_heads": 2, "rope_scaling": {"type": "yarn", "factor": 4.0}}
        """,
                    null));
    assertTrue(
        e.getMessage().contains("\"yarn\"") && e.getMessage().contains("llama3, linear"),
        e.getMessage());
  }

  @Test
  void missingConfigSaysSo() {
    ModelLoadException e = assertThrows(ModelLoadException.class, () -> ModelConfig.load(dir));
    assertTrue(
        e.getMessage().contains("config.json") && e.getMessage().contains("not found"),
        e.getMessage());
  }

  @Test
  void headsThatDoNotGroupAreRejected() throws IOException {
    ModelLoadException e =
        assertThrows(
            ModelLoadException.class,
            () ->
                parse(
                    """
        {"model_type": "mistral", "vocab_size": 10, "hidden_size": 12, "intermediate_size": 8,
         "num_hidden_layers": 1, "num_attention_heads": 6, "num_key_value_heads": 4}
        """,
                    null));
    assertTrue(e.getMessage().contains("not a multiple of num_key_value_heads"), e.getMessage());
  }

  @Test
  void writerRoundTripsConfigs() {
    for (TinyModels.Family f : TinyModels.Family.values()) {
      ModelConfig c =
          TinyModels.config(f, TinyModels.Size.TINY)
              .withRopeScaling(new ModelConfig.RopeScaling("llama3", 4.0, 1.0, 4.0, 64));
      Path d = dir.resolve(f.name());
      RandomDecoderWriter.write(d, c, 1);
      assertEquals(c, ModelConfig.load(d), f.name());
    }
  }
}
