package dev.editforge.lora;

import java.util.Locale;

/**
 * Recognizes out-of-memory failures, which callers may retry smaller: the one rule for the trainer,
 * the scorer and the generate stage's batch splitting. Stateless and thread-safe.
 */
public final class OutOfMemory {
  private OutOfMemory() {}

  /**
   * True when {@code e} or a cause is a Java {@link OutOfMemoryError}, any exception whose message
   * says "out of memory" (CUDA's "CUDA out of memory" / "CUDA error: out of memory", also when a
   * generator wraps it in a plain RuntimeException), or an engine (DJL) exception reporting
   * exhausted memory in the host allocator's words ("not enough memory", "can't allocate memory",
   * "failed to allocate").
   */
  public static boolean is(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof OutOfMemoryError) {
        return true;
      }
      String msg = t.getMessage();
      if (msg == null) {
        continue;
      }
      String s = msg.toLowerCase(Locale.ROOT);
      if (s.contains("out of memory")) {
        return true;
      }
      // Only from the engine: these phrases are too generic to trust in any exception.
      if ((t instanceof ai.djl.engine.EngineException || t.getClass().getName().contains("djl"))
          && (s.contains("can't allocate memory")
              || s.contains("not enough memory")
              || s.contains("failed to allocate"))) {
        return true;
      }
    }
    return false;
  }
}
