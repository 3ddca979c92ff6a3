package dev.editforge.finetune;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.editforge.llm.DecoderInput;
import dev.editforge.llm.DecoderModel;
import dev.editforge.llm.ProjectionDelta;
import dev.editforge.lora.Batching;
import dev.editforge.lora.TokenizedSample;

/**
 * A {@link Batching.Batch} as a training forward of {@link DecoderModel}, and the causal-LM loss
 * (logits at t against labels at t + 1, IGNORE positions skipped), as transformers computes it.
 */
public final class CausalLm {
  private CausalLm() {}

  /**
   * The forward's input on {@code m}: ids, padding mask, positions and, for BFD rows, the block
   * mask.
   */
  public static DecoderInput input(NDManager m, Batching.Batch b, ProjectionDelta delta) {
    Shape shape = new Shape(b.rows(), b.time());
    NDArray ids = m.create(b.inputIds(), shape);
    NDArray mask = m.create(b.attention(), shape);
    NDArray positions = m.create(b.positionIds(), shape);
    DecoderInput in = DecoderInput.training(ids, mask).withPositionIds(positions).withDelta(delta);
    byte[] attend = b.attendMask();
    if (attend != null) {
      in =
          in.withAttendMask(
              m.create(attend, new Shape(b.rows(), b.time(), b.time()))
                  .toType(DataType.BOOLEAN, false));
    }
    return in;
  }

  /**
   * Per-position negative log-likelihood {@code [B, T-1]} (0 where the shifted label is IGNORE).
   */
  public static NDArray tokenLosses(NDArray logits, Batching.Batch b) {
    NDManager m = logits.getManager();
    int t = b.time();
    NDArray shifted = logits.get(":, :-1, :");
    long[] target = new long[b.rows() * (t - 1)];
    float[] keep = new float[target.length];
    for (int r = 0; r < b.rows(); r++) {
      for (int i = 1; i < t; i++) {
        long label = b.labels()[r * t + i];
        int at = r * (t - 1) + i - 1;
        target[at] = label == TokenizedSample.IGNORE ? 0 : label;
        keep[at] = label == TokenizedSample.IGNORE ? 0f : 1f;
      }
    }
    Shape s = new Shape(b.rows(), t - 1);
    NDArray logProbs = shifted.logSoftmax(2);
    NDArray picked = logProbs.gather(m.create(target, s).expandDims(2), 2).squeeze(2);
    return picked.neg().mul(m.create(keep, s));
  }

  /** Mean loss over the batch's loss tokens (a scalar; 0 when there are none). */
  public static NDArray meanLoss(NDArray logits, Batching.Batch b) {
    long n = Math.max(1, b.lossTokens());
    return tokenLosses(logits, b).sum().div((float) n);
  }
}
