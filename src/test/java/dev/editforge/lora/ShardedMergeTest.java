package dev.editforge.lora;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.types.DataType;
import com.fasterxml.jackson.databind.JsonNode;
import dev.editforge.llm.DecoderModel;
import dev.editforge.llm.SafetensorsCheckpoint;
import dev.editforge.llm.SafetensorsFile;
import dev.editforge.llm.TinyModels;
import dev.editforge.text.Json;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SplittableRandom;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A merged model above the max shard size is saved as transformers saves it: {@code
 * model-0000i-of-0000N.safetensors} + {@code model.safetensors.index.json}, and editforge's own
 * loader reads it back to the same tensors as the one-file save.
 */
class ShardedMergeTest {
  @TempDir Path dir;

  private static LoraAdapter nonZero(DecoderModel model) {
    LoraConfig config = new LoraConfig(4, 8, 0, List.of("q_proj", "v_proj"));
    LoraAdapter init = LoraAdapter.initialize(model.config(), config, 5);
    SplittableRandom rng = new SplittableRandom(6);
    Map<String, LoraAdapter.Factors> f = new java.util.LinkedHashMap<>();
    for (LoraAdapter.Factors x : init.factors().values()) {
      float[] b = new float[x.b().length];
      for (int i = 0; i < b.length; i++) {
        b[i] = (float) (rng.nextGaussian() * 0.05);
      }
      f.put(x.target().key(), new LoraAdapter.Factors(x.target(), x.a(), b));
    }
    return new LoraAdapter(config, f);
  }

  @Test
  void aSmallMaxShardSizeGivesShardsAndAnIndexThatReloadToTheSameTensors() throws Exception {
    LoraTestSupport.oneEngineThread();
    Path basePath = TinyModels.qwen2(dir.resolve("base"), TinyModels.Size.TINY, 23);
    Path single = dir.resolve("single");
    Path sharded = dir.resolve("sharded");
    long maxShard = 40_000;
    try (DecoderModel base = DecoderModel.load(basePath, Device.cpu(), DataType.FLOAT32)) {
      LoraAdapter adapter = nonZero(base);
      LoraMerge.saveMerged(base, adapter, single);
      // an earlier one-file save in the same directory must not outlive the sharded one
      LoraMerge.saveMerged(base, adapter, sharded);
      LoraMerge.saveMerged(base, adapter, sharded, maxShard);
    }
    assertTrue(Files.exists(single.resolve(SafetensorsCheckpoint.SINGLE_FILE)));
    assertFalse(Files.exists(single.resolve(SafetensorsCheckpoint.INDEX_FILE)));
    assertFalse(
        Files.exists(sharded.resolve(SafetensorsCheckpoint.SINGLE_FILE)),
        "the stale one-file weights are gone");

    JsonNode index =
        Json.MAPPER.readTree(sharded.resolve(SafetensorsCheckpoint.INDEX_FILE).toFile());
    Set<String> shardFiles = new TreeSet<>();
    index.get("weight_map").fields().forEachRemaining(e -> shardFiles.add(e.getValue().asText()));
    assertTrue(shardFiles.size() >= 2, "shards: " + shardFiles);
    int n = shardFiles.size();
    Set<String> expected = new TreeSet<>();
    for (int i = 1; i <= n; i++) {
      expected.add(String.format("model-%05d-of-%05d.safetensors", i, n));
    }
    assertEquals(expected, shardFiles, "transformers' shard names");

    long total = 0;
    Set<String> seen = new HashSet<>();
    for (String shard : shardFiles) {
      try (SafetensorsFile f = SafetensorsFile.open(sharded.resolve(shard))) {
        long bytes = 0;
        for (String name : f.names()) {
          assertEquals(shard, index.get("weight_map").get(name).asText(), name);
          assertTrue(seen.add(name), name + " in two shards");
          bytes += f.info(name).byteLength();
        }
        total += bytes;
        assertTrue(
            bytes <= maxShard || f.names().size() == 1,
            shard + " holds " + bytes + " bytes in " + f.names().size() + " tensors");
      }
    }
    assertEquals(total, index.get("metadata").get("total_size").asLong());

    try (SafetensorsCheckpoint one = SafetensorsCheckpoint.open(single);
        SafetensorsCheckpoint many = SafetensorsCheckpoint.open(sharded)) {
      assertEquals(one.names(), many.names());
      assertEquals(seen, many.names());
      for (String name : one.names()) {
        assertArrayEquals(one.readFloats(name), many.readFloats(name), name);
      }
    }
    // the decoder loads the sharded directory as it loads the one-file one
    try (DecoderModel a = DecoderModel.load(single, Device.cpu(), DataType.FLOAT32);
        DecoderModel b = DecoderModel.load(sharded, Device.cpu(), DataType.FLOAT32)) {
      for (String name : a.weights().keySet()) {
        assertArrayEquals(
            a.weights().get(name).toFloatArray(), b.weights().get(name).toFloatArray(), name);
      }
    }
  }
}
