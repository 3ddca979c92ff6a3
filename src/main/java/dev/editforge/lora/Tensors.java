package dev.editforge.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;

/**
 * Arrays whose memory libtorch owns. On CPU, DJL's {@code NDManager.create(float[])} and {@code
 * NDArray.set(float[])} make the tensor share a Java direct buffer ({@code from_blob}) that lives
 * only as long as the Java wrapper: a tensor that outlives its wrapper (saved by autograd for
 * backward after the layer's scope closed it, or updated in place for many steps) then reads memory
 * the JVM has freed and reused, which shows up as NaNs or runs that differ. Everything that must
 * outlive its wrapper is cloned into libtorch's own memory here.
 */
final class Tensors {
  private Tensors() {}

  static NDArray owned(NDManager m, float[] data, Shape shape) {
    try (NDArray shared = m.create(data, shape)) {
      return shared.duplicate();
    }
  }
}
