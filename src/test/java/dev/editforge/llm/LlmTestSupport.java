package dev.editforge.llm;

import ai.djl.engine.Engine;
import ai.djl.pytorch.jni.JniUtils;

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
}
