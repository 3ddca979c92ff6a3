package dev.editforge.lora;

import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.engine.EngineException;
import org.junit.jupiter.api.Test;

class OutOfMemoryTest {
  @Test
  void javaOutOfMemoryErrorAnywhereInTheCauseChain() {
    assertTrue(OutOfMemory.is(new OutOfMemoryError("Java heap space")));
    assertTrue(
        OutOfMemory.is(new RuntimeException(new IllegalStateException(new OutOfMemoryError("x")))));
  }

  @Test
  void cudaOutOfMemoryFromAnyException() {
    assertTrue(
        OutOfMemory.is(new RuntimeException("CUDA out of memory. Tried to allocate 2.00 GiB")));
    assertTrue(OutOfMemory.is(new EngineException("CUDA error: out of memory")));
    assertTrue(
        OutOfMemory.is(
            new IllegalStateException(
                "generation failed", new EngineException("CUDA OUT OF MEMORY"))));
  }

  @Test
  void hostAllocatorMessagesFromTheEngine() {
    assertTrue(
        OutOfMemory.is(
            new EngineException(
                "[enforce fail at alloc_cpu.cpp:114] data. DefaultCPUAllocator: not enough memory: you tried to allocate 1 bytes")));
    assertTrue(
        OutOfMemory.is(
            new EngineException(
                "DefaultCPUAllocator: can't allocate memory: you tried to allocate")));
    assertTrue(
        OutOfMemory.is(new RuntimeException(new EngineException("failed to allocate 4096 bytes"))));
  }

  @Test
  void otherFailuresAreNotOutOfMemory() {
    assertFalse(OutOfMemory.is(new EngineException("shape mismatch")));
    assertFalse(
        OutOfMemory.is(new IllegalArgumentException("not enough memory for the joke", null)));
    assertFalse(OutOfMemory.is(new RuntimeException((String) null)));
  }
}
