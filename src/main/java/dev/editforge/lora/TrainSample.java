package dev.editforge.lora;

import java.util.Arrays;

/**
 * One training sequence, as Hugging Face's causal-LM trainers take it: token ids and labels of the
 * same length, where label {@code -100} means "no loss here" (the model shifts: the logits at
 * position t are scored against {@code labels[t + 1]}).
 *
 * @param positionIds rotary positions, or null for 0, 1, 2, ...; a packed sample (several documents
 *     concatenated) restarts them at 0 for each document
 * @param segmentIds per-token document number for packed samples, or null: tokens attend only to
 *     earlier tokens of the same segment (a block-diagonal causal mask)
 */
public record TrainSample(int[] inputIds, int[] labels, int[] positionIds, int[] segmentIds) {
  public static final int IGNORE = -100;

  public TrainSample {
    if (inputIds.length == 0) {
      throw new IllegalArgumentException("a training sample needs at least one token");
    }
    if (labels.length != inputIds.length) {
      throw new IllegalArgumentException("labels must be as long as inputIds");
    }
    if (positionIds != null && positionIds.length != inputIds.length) {
      throw new IllegalArgumentException("positionIds must be as long as inputIds");
    }
    if (segmentIds != null && segmentIds.length != inputIds.length) {
      throw new IllegalArgumentException("segmentIds must be as long as inputIds");
    }
  }

  /** Plain causal LM: every token is a label. */
  public static TrainSample causal(int[] ids) {
    return new TrainSample(ids, ids.clone(), null, null);
  }

  /**
   * Completion-only: the first {@code promptLength} tokens are context (labels {@code -100}), the
   * rest is learned.
   */
  public static TrainSample completionOnly(int[] ids, int promptLength) {
    int[] labels = ids.clone();
    Arrays.fill(labels, 0, Math.min(promptLength, labels.length), IGNORE);
    return new TrainSample(ids, labels, null, null);
  }

  /**
   * Several documents packed into one sample, as transformers' {@code DataCollatorWithFlattening}
   * does: ids concatenated, positions restarting at 0 per document, segment ids keeping attention
   * inside each document, and the first token of every document after the first unlabelled (nothing
   * before it in its document predicts it). Training on the packed sample equals training on the
   * documents as separate rows of one batch.
   *
   * @param labels per-document labels (same lengths as {@code docs}), or null for all tokens
   */
  public static TrainSample packed(java.util.List<int[]> docs, java.util.List<int[]> labels) {
    int total = 0;
    for (int[] d : docs) {
      total += d.length;
    }
    int[] ids = new int[total];
    int[] lab = new int[total];
    int[] pos = new int[total];
    int[] seg = new int[total];
    int at = 0;
    for (int k = 0; k < docs.size(); k++) {
      int[] d = docs.get(k);
      int[] l = labels == null ? d : labels.get(k);
      for (int t = 0; t < d.length; t++) {
        ids[at + t] = d[t];
        lab[at + t] = t == 0 && k > 0 ? IGNORE : l[t];
        pos[at + t] = t;
        seg[at + t] = k;
      }
      at += d.length;
    }
    return new TrainSample(ids, lab, pos, seg);
  }

  public int length() {
    return inputIds.length;
  }

  /** Positions that carry a loss once shifted ({@code labels[1..]} that are not -100). */
  public int labelTokens() {
    int n = 0;
    for (int t = 1; t < labels.length; t++) {
      if (labels[t] != IGNORE) {
        n++;
      }
    }
    return n;
  }
}
