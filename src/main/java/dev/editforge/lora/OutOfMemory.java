package dev.editforge.lora;

/** Recognizes the engine's out-of-memory failures (CUDA or host allocator), which callers may retry smaller. */
public final class OutOfMemory {
  private OutOfMemory() {}

  /** True when {@code e} or a cause is an engine exception or error reporting exhausted memory. */
  public static boolean is(Throwable e) {
    for (Throwable t = e; t != null; t = t.getCause()) {
      if (t instanceof OutOfMemoryError) {
        return true;
      }
      String msg = t.getMessage();
      if (msg != null && (t instanceof ai.djl.engine.EngineException || t.getClass().getName().contains("djl"))) {
        String s = msg.toLowerCase(java.util.Locale.ROOT);
        if (s.contains("out of memory") || s.contains("can't allocate memory") || s.contains("not enough memory")
            || s.contains("failed to allocate")) {
          return true;
        }
      }
    }
    return false;
  }
}
