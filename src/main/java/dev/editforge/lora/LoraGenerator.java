package dev.editforge.lora;

import ai.djl.ndarray.NDManager;
import dev.editforge.llm.DecoderModel;
import dev.editforge.llm.LocalGenerator;
import dev.editforge.llm.ProjectionDelta;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Greedy, KV-cached generation in which each group of rows uses its own adapter: the same {@code
 * prompts} are answered once per group, all groups in one left-padded batch, so evaluating {@code
 * G} adapters on {@code Q} questions is one batched decode of {@code G x Q} rows over the shared
 * base weights. Group {@code g} uses adapter {@code groupAdapters[g]} of the stack, or the base
 * model when the stack is null. Greedy picks the first highest logit. A row stops at a stop token
 * (not included in its result) or after {@code maxNewTokens}.
 *
 * <p>A thin user of {@link LocalGenerator#greedyIds}, the one decode loop. Stateless; the stack
 * stays the caller's, the gathered adapter factors live on a manager closed before returning.
 */
public final class LoraGenerator {
  private LoraGenerator() {}

  /** {@code result[g][p]}: the token ids generated for prompt {@code p} by group {@code g}. */
  public static int[][][] greedy(
      DecoderModel model,
      LoraStack stack,
      int[] groupAdapters,
      List<int[]> prompts,
      int maxNewTokens,
      Set<Integer> stopIds) {
    int groups = groupAdapters.length;
    int q = prompts.size();
    int[][][] result = new int[groups][q][];
    if (groups * q == 0 || maxNewTokens <= 0) {
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
    // The longest prompt bounds every row: callers compare groups' answers, so all get the same
    // cap.
    int maxNew =
        Math.min(maxNewTokens, Math.max(0, model.config().maxPositionEmbeddings() - promptLen));
    List<int[]> rows = new ArrayList<>();
    for (int g = 0; g < groups; g++) {
      rows.addAll(prompts);
    }
    List<List<Integer>> ids;
    try (NDManager m = NDManager.newBaseManager(model.device(), "PyTorch")) {
      ProjectionDelta delta = stack == null ? null : stack.delta(m, groupAdapters, q);
      ids = LocalGenerator.greedyIds(model, rows, maxNew, stopIds, delta);
    }
    for (int g = 0; g < groups; g++) {
      for (int p = 0; p < q; p++) {
        List<Integer> t = ids.get(g * q + p);
        // The loop keeps the stop id that ended a row; answers here are the text before it.
        int n = !t.isEmpty() && stopIds.contains(t.get(t.size() - 1)) ? t.size() - 1 : t.size();
        result[g][p] = t.subList(0, n).stream().mapToInt(Integer::intValue).toArray();
      }
    }
    return result;
  }
}
