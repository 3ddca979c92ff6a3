package dev.editforge.llm;

import ai.djl.ndarray.NDArray;

/**
 * The hook every linear projection of {@link DecoderModel#forward} goes through: the model computes
 * {@code y = x W^T (+ b)} with its frozen weight, then adds {@code delta(layer, module, x)} when it
 * is not null. LoRA implements it as {@code scale * (x A^T) B^T}, possibly with a different adapter
 * per batch row, without touching the model.
 *
 * <p>Contract: {@code x} is the projection's input {@code [B, T, in]} (float32, or float16 on GPU
 * when the model computes in float16); the result must be {@code [B, T, out]} of the same type and
 * device, or null for "no change". {@code module} is the Hugging Face module name ({@code q_proj},
 * {@code k_proj}, {@code v_proj}, {@code o_proj}, {@code gate_proj}, {@code up_proj}, {@code
 * down_proj}; GPT-2's {@code c_attn}, {@code attn.c_proj}, {@code c_fc}, {@code mlp.c_proj}: see
 * {@link Projection#key()}). Arrays the hook creates during a forward are intermediates: the model
 * closes them when the layer is done (autograd keeps what backward needs). Called on the thread
 * that runs the forward.
 */
@FunctionalInterface
public interface ProjectionDelta {
  NDArray delta(int layer, String module, NDArray x);

  /**
   * The token embeddings {@code x [B, T, H]} of {@code ids [B, T]}, possibly changed: trainable
   * rows of added tokens (PEFT's {@code trainable_token_indices}) replace the frozen ones here.
   * Same type and shape as {@code x}; the default leaves them as they are.
   */
  default NDArray embeddings(NDArray ids, NDArray x) {
    return x;
  }

  /**
   * The LM head's logits {@code [B, T, V]} (float32) for the final normed hidden states {@code
   * hidden [B, T, H]}, possibly changed (the output rows of added tokens); the default leaves them.
   */
  default NDArray logits(NDArray hidden, NDArray logits) {
    return logits;
  }
}
