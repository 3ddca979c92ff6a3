package dev.editforge.lora;

import dev.editforge.llm.ModelConfig;
import dev.editforge.llm.Projection;
import java.util.EnumSet;
import java.util.Set;

/**
 * Matmul FLOPs of one training forward + backward of a LoRA-adapted decoder over one sequence of
 * {@code T} tokens, counted from the shapes (the numerator of a model-FLOPs utilization; norms,
 * softmax, RoPE and other element-wise work are not counted, as is usual).
 *
 * <ul>
 *   <li>Base projection {@code in x out}: forward {@code 2 T in out}; backward {@code 2 T in out}
 *       for the input's gradient only where the input depends on a LoRA factor (the frozen weight
 *       gets no gradient, and nothing before the first adapted projection is differentiated).
 *   <li>LoRA on it, rank {@code r}: forward {@code 2 T r (in + out)}; backward {@code 2 T r out}
 *       (B's gradient) + {@code 2 T r out} (the gradient of {@code x A}) + {@code 2 T r in} (A's
 *       gradient) + {@code 2 T r in} for the input's gradient where the input needs one.
 *   <li>Attention per layer ({@code h} query heads of size {@code d}; the full {@code T x T} score
 *       matrix, as computed, causal mask or not): forward {@code 2 h T^2 d} for scores and again
 *       for the weighted values; backward {@code 2 h T^2 d} each for the gradients of the values,
 *       of the attention probabilities, of the queries and of the keys, each only where needed.
 *   <li>LM head {@code hidden x vocab} on every position: forward {@code 2 T hidden vocab},
 *       backward the same for the hidden state's gradient.
 * </ul>
 */
public final class TrainFlops {
  private TrainFlops() {}

  /** FLOPs of one sequence of {@code tokens} tokens (0 for an empty one). */
  public static double sequence(ModelConfig c, LoraConfig lora, int tokens) {
    double t = tokens;
    Set<Projection> adapted = EnumSet.noneOf(Projection.class);
    adapted.addAll(lora.projectionsOf(c));
    int r = lora.rank();
    double total = 0;
    // Whether the residual stream entering a layer depends on a LoRA factor.
    boolean stream = false;
    for (int layer = 0; layer < c.numHiddenLayers(); layer++) {
      boolean q;
      boolean k;
      boolean v;
      if (c.isGpt2()) {
        total += projection(c, Projection.C_ATTN, t, r, stream, adapted);
        q = k = v = stream || adapted.contains(Projection.C_ATTN);
      } else {
        total += projection(c, Projection.Q_PROJ, t, r, stream, adapted);
        total += projection(c, Projection.K_PROJ, t, r, stream, adapted);
        total += projection(c, Projection.V_PROJ, t, r, stream, adapted);
        q = stream || adapted.contains(Projection.Q_PROJ);
        k = stream || adapted.contains(Projection.K_PROJ);
        v = stream || adapted.contains(Projection.V_PROJ);
      }
      double core = 2.0 * c.numAttentionHeads() * t * t * c.headDim();
      total += 2 * core;
      total += v ? core : 0; // values' gradient
      total += q || k ? core : 0; // probabilities' gradient
      total += q ? core : 0;
      total += k ? core : 0;
      boolean attention = q || k || v;
      Projection out = c.isGpt2() ? Projection.ATTN_C_PROJ : Projection.O_PROJ;
      total += projection(c, out, t, r, attention, adapted);
      stream = stream || attention || adapted.contains(out);
      boolean mlp = stream;
      for (Projection p :
          c.isGpt2()
              ? new Projection[] {Projection.C_FC}
              : new Projection[] {Projection.GATE_PROJ, Projection.UP_PROJ}) {
        total += projection(c, p, t, r, stream, adapted);
        mlp |= adapted.contains(p);
      }
      Projection down = c.isGpt2() ? Projection.MLP_C_PROJ : Projection.DOWN_PROJ;
      total += projection(c, down, t, r, mlp, adapted);
      stream = stream || mlp || adapted.contains(down);
    }
    double head = 2.0 * t * c.hiddenSize() * c.vocabSize();
    return total + head + (stream ? head : 0);
  }

  private static double projection(
      ModelConfig c, Projection p, double t, int r, boolean inputNeedsGrad, Set<Projection> lora) {
    double in = p.inFeatures(c);
    double out = p.outFeatures(c);
    double flops = 2 * t * in * out * (inputNeedsGrad ? 2 : 1);
    if (lora.contains(p)) {
      flops += 2 * t * r * (in + out); // forward
      flops += 2 * t * r * (out + out + in); // B's, (x A)'s and A's gradients
      flops += inputNeedsGrad ? 2 * t * r * in : 0;
    }
    return flops;
  }
}
