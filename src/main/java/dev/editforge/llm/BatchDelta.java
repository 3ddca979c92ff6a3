package dev.editforge.llm;

/**
 * Adapters for generation: given which request each row of a decode batch serves (indexes into the
 * list passed to {@link LocalGenerator#generate(java.util.List, BatchDelta)}), returns the {@link
 * ProjectionDelta} for that batch (null = base model). A multi-adapter LoRA uses it to give each
 * request its own adapter while the requests share batches.
 */
@FunctionalInterface
public interface BatchDelta {
  ProjectionDelta forBatch(int[] requestIndexOfRow);
}
