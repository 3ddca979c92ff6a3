package dev.editforge.llm;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;
import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;

/** Shared helpers of the llm tests. */
final class LlmTestSupport {
  private LlmTestSupport() {}

  /**
   * One libtorch thread for the test thread: these models are tiny, and on a shared 2-core machine
   * OpenMP barriers across busy cores make each small op 50x slower.
   */
  static void oneEngineThread() {
    Engine.getEngine("PyTorch");
    JniUtils.setNumThreads(1);
  }

  /** {@code ../shared} next to the project, or a skipped test saying it is absent. */
  static Path shared(String relative) {
    Path p = Path.of("..", "shared").resolve(relative);
    Assumptions.assumeTrue(Files.exists(p),
        "../shared/" + relative + " is absent (fresh clone without the shared data): golden test skipped");
    return p;
  }
}
