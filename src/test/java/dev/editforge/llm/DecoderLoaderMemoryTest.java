package dev.editforge.llm;

import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assumptions.assumeTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.types.DataType;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The loader holds the weights once: its resident peak above the started engine stays well under
 * two copies of the weights (a full second copy, say a heap copy or a mapping kept resident, would
 * double it), and closing the model gives that memory back. Linux only (VmHWM reset).
 */
class DecoderLoaderMemoryTest {
  @Test
  void loadingHoldsTheWeightsOnceAndClosingGivesThemBack(@TempDir Path dir) throws IOException {
    LlmTestSupport.oneEngineThread();
    // A first load warms DJL's classes and libtorch's allocator, which are the runtime's cost.
    DecoderLoader.load(
            TinyModels.llama(dir.resolve("warm"), TinyModels.Size.TINY, 1),
            Device.cpu(),
            DataType.FLOAT32)
        .close();
    // About 100 MB of float32 weights, in tensors below and above the loader's 16 MB chunk.
    ModelConfig config =
        new ModelConfig(
            "llama", 16000, 512, 2048, 4, 8, 8, 64, 1e-5, 10000.0, null, 512, true, false, false,
            false, 0, -1, List.of());
    Path model = dir.resolve("model");
    RandomDecoderWriter.write(model, config, 3);
    TinyTokenizerWriter.writeWordLevel(model, config.vocabSize());
    Files.writeString(model.resolve("tokenizer_config.json"), "{}");
    assumeTrue(LlmBench.Memory.resetPeak(), "no VmHWM reset on this kernel");
    long base = LlmBench.Memory.status("VmRSS");
    long weights;
    long peak;
    long held;
    Collection<NDArray> arrays;
    try (LoadedDecoder d = DecoderLoader.load(model, Device.cpu(), DataType.FLOAT32)) {
      weights = d.model().weightBytes();
      peak = LlmBench.Memory.status("VmHWM") - base;
      held = LlmBench.Memory.status("VmRSS") - base;
      arrays = List.copyOf(d.model().weights().values());
    }
    String numbers =
        String.format(
            "weights %.1f MB; above the engine: peak %.1f, loaded %.1f MB",
            weights / 1e6, peak / 1e6, held / 1e6);
    assertTrue(weights > 90e6, numbers);
    assertTrue(held > 0.8 * weights, "the weights must be resident once loaded: " + numbers);
    assertTrue(peak < 1.4 * weights, "more than the weights plus one chunk: " + numbers);
    // Whether glibc hands freed pages back to the OS at once is its choice (RSS after close is
    // not a stable measure in a shared test JVM); that the model frees every tensor is ours.
    assertTrue(
        arrays.stream().allMatch(NDArray::isReleased), "closing the model frees every weight");
  }
}
