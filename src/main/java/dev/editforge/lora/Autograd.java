package dev.editforge.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.pytorch.engine.PtNDArray;
import ai.djl.pytorch.jni.JniUtils;

/**
 * Autograd scoped to the calling thread. libtorch's grad mode is thread-local and a CPU backward
 * runs on the thread that calls it, so trainers on different threads record and differentiate their
 * own graphs in parallel. DJL's {@code GradientCollector} makes the same two native calls but also
 * holds a JVM-wide flag that throws on a second collector, which forced concurrent trainers (two
 * score tasks, one per GPU of an executor) to take turns behind a lock.
 *
 * <p>What the lock never protected and this does not either: tensors that autograd saves must live
 * in libtorch's memory, not in Java buffers the GC may free before backward ({@link Tensors}); each
 * trainer's graph, parameters and gradients are its own. Thread-safe (all state is per thread).
 */
public final class Autograd {
  private Autograd() {}

  /**
   * Grad mode on for the calling thread until {@link Recording#close}, which restores the mode the
   * thread had (off on a Spark task thread after a forward for generation, for example).
   */
  public static Recording record() {
    boolean previous = JniUtils.isGradMode();
    JniUtils.setGradMode(true);
    return new Recording(previous);
  }

  /**
   * Back-propagates the scalar {@code loss} into the {@code .grad} of every leaf that requires
   * gradients, adding to what is there; frees the graph.
   */
  public static void backward(NDArray loss) {
    NDArray seed = loss.onesLike();
    JniUtils.backward((PtNDArray) loss, (PtNDArray) seed, false, false);
  }

  /** The recording scope of {@link #record()}. */
  public static final class Recording implements AutoCloseable {
    private final boolean previous;

    private Recording(boolean previous) {
      this.previous = previous;
    }

    @Override
    public void close() {
      JniUtils.setGradMode(previous);
    }
  }
}
