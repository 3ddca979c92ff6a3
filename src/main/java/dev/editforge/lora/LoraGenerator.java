package dev.editforge.lora;

import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.Shape;
import dev.editforge.llm.DecoderInput;
import dev.editforge.llm.DecoderModel;
import dev.editforge.llm.KvCache;
import dev.editforge.llm.ProjectionDelta;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Greedy, KV-cached generation in which each group of rows uses its own adapter: the same
 * {@code prompts} are answered once per group, all groups in one left-padded batch, so evaluating
 * {@code G} adapters on {@code Q} questions is one batched decode of {@code G x Q} rows over the
 * shared base weights. Group {@code g} uses adapter {@code groupAdapters[g]} of the stack, or the
 * base model when the stack is null. Greedy picks the first highest logit. A row stops at a stop
 * token (not included in its result) or after {@code maxNewTokens}.
 */
public final class LoraGenerator {
  private LoraGenerator() {}

  /** {@code result[g][p]}: the token ids generated for prompt {@code p} by group {@code g}. */
  public static int[][][] greedy(DecoderModel model, LoraStack stack, int[] groupAdapters, List<int[]> prompts,
      int maxNewTokens, Set<Integer> stopIds) {
    int groups = groupAdapters.length;
    int q = prompts.size();
    int rows = groups * q;
    List<List<Integer>> out = new ArrayList<>();
    for (int i = 0; i < rows; i++) {
      out.add(new ArrayList<>());
    }
    int[][][] result = new int[groups][q][];
    if (rows == 0 || maxNewTokens <= 0) {
      for (int g = 0; g < groups; g++) {
        for (int p = 0; p < q; p++) {
          result[g][p] = new int[0];
        }
      }
      return result;
    }
    int promptLen = 0;
    for (int[] p : prompts) {
      promptLen = Math.max(promptLen, p.length);
    }
    int window = model.config().maxPositionEmbeddings();
    int maxNew = Math.min(maxNewTokens, Math.max(0, window - promptLen));
    long[] ids = new long[rows * promptLen];
    long[] mask = new long[rows * promptLen];
    long[] positions = new long[rows * promptLen];
    int[] next = new int[rows];
    for (int g = 0; g < groups; g++) {
      for (int p = 0; p < q; p++) {
        int row = g * q + p;
        int[] pr = prompts.get(p);
        int pad = promptLen - pr.length;
        for (int t = 0; t < pr.length; t++) {
          ids[row * promptLen + pad + t] = pr[t];
          mask[row * promptLen + pad + t] = 1;
          positions[row * promptLen + pad + t] = t;
        }
        next[row] = pr.length;
      }
    }
    boolean[] done = new boolean[rows];
    int vocab = model.config().vocabSize();
    int width = promptLen;
    try (NDManager gen = NDManager.newBaseManager(model.device(), "PyTorch");
        KvCache cache = model.newCache(gen, rows, promptLen + Math.max(1, maxNew))) {
      ProjectionDelta delta = stack == null ? null : stack.delta(gen, groupAdapters, q);
      float[] logits;
      try (NDManager step = gen.newSubManager()) {
        NDArray in = step.create(ids, new Shape(rows, promptLen));
        NDArray am = step.create(mask, new Shape(rows, promptLen));
        NDArray ps = step.create(positions, new Shape(rows, promptLen));
        logits = model.forward(new DecoderInput(in, am, ps, null, cache, delta, true)).toFloatArray();
      }
      for (int produced = 0; produced < maxNew; produced++) {
        long[] nextIds = new long[rows];
        boolean any = false;
        for (int i = 0; i < rows; i++) {
          if (done[i]) {
            continue;
          }
          int best = 0;
          float bestValue = Float.NEGATIVE_INFINITY;
          int off = i * vocab;
          for (int v = 0; v < vocab; v++) {
            if (logits[off + v] > bestValue) {
              bestValue = logits[off + v];
              best = v;
            }
          }
          nextIds[i] = best;
          if (stopIds.contains(best)) {
            done[i] = true;
          } else {
            out.get(i).add(best);
            if (out.get(i).size() >= maxNew) {
              done[i] = true;
            }
          }
          any |= !done[i];
        }
        if (!any) {
          break;
        }
        long[] widened = new long[rows * (width + 1)];
        for (int i = 0; i < rows; i++) {
          System.arraycopy(mask, i * width, widened, i * (width + 1), width);
          widened[i * (width + 1) + width] = 1;
        }
        mask = widened;
        width++;
        long[] pos = new long[rows];
        for (int i = 0; i < rows; i++) {
          pos[i] = next[i]++;
        }
        try (NDManager step = gen.newSubManager()) {
          NDArray in = step.create(nextIds, new Shape(rows, 1));
          NDArray am = step.create(mask, new Shape(rows, width));
          NDArray ps = step.create(pos, new Shape(rows, 1));
          logits = model.forward(new DecoderInput(in, am, ps, null, cache, delta, true)).toFloatArray();
        }
      }
    }
    for (int g = 0; g < groups; g++) {
      for (int p = 0; p < q; p++) {
        result[g][p] = out.get(g * q + p).stream().mapToInt(Integer::intValue).toArray();
      }
    }
    return result;
  }
}
