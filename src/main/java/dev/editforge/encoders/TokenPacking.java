package dev.editforge.encoders;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;

/**
 * Pure token bookkeeping shared by the transformer encoders: truncation that keeps the special
 * tokens, and grouping texts into length-sorted micro-batches padded only to their own longest
 * member. Padding to a fixed length wastes most of the compute on short texts (DESIGN measured 9x);
 * sorting by length before grouping roughly halves the remaining padding.
 */
final class TokenPacking {
  private TokenPacking() {}

  /**
   * Cuts {@code ids} to {@code maxLength} by removing content tokens from the end while keeping the
   * leading and trailing special tokens ({@code [CLS] ... [SEP]}), which is what Hugging Face
   * truncation does for a single sequence. Returns {@code ids} itself when it already fits.
   */
  static long[] truncate(long[] ids, long[] specialMask, int maxLength) {
    if (ids.length <= maxLength) {
      return ids;
    }
    int lead = 0;
    while (lead < ids.length && specialMask[lead] == 1) {
      lead++;
    }
    int trail = 0;
    while (trail < ids.length - lead && specialMask[ids.length - 1 - trail] == 1) {
      trail++;
    }
    int keep = maxLength - lead - trail;
    if (keep < 1) {
      throw new IllegalArgumentException(
          "max length "
              + maxLength
              + " leaves no room for text beside "
              + (lead + trail)
              + " special tokens");
    }
    long[] out = new long[maxLength];
    System.arraycopy(ids, 0, out, 0, lead + keep);
    System.arraycopy(ids, ids.length - trail, out, lead + keep, trail);
    return out;
  }

  /** One micro-batch: which texts (by input index) and the padded length they share. */
  record Group(int[] members, int paddedLength) {}

  /**
   * Groups the texts with the given token lengths (entries {@code <= 0} are skipped: rejected
   * texts) into batches of at most {@code maxBatch} texts and at most {@code maxBatchTokens} padded
   * token slots, longest texts first so a memory problem shows on the first batch, not the last.
   */
  static List<Group> group(int[] lengths, int maxBatch, int maxBatchTokens) {
    Integer[] order =
        java.util.stream.IntStream.range(0, lengths.length)
            .filter(i -> lengths[i] > 0)
            .boxed()
            .toArray(Integer[]::new);
    // Stable sort: equal lengths keep input order, so results do not depend on sort internals.
    Arrays.sort(order, Comparator.comparingInt((Integer i) -> lengths[i]).reversed());
    List<Group> groups = new ArrayList<>();
    int start = 0;
    while (start < order.length) {
      int longest = lengths[order[start]];
      int capacity = Math.max(1, Math.min(maxBatch, maxBatchTokens / longest));
      int end = Math.min(order.length, start + capacity);
      int[] members = new int[end - start];
      for (int j = start; j < end; j++) {
        members[j - start] = order[j];
      }
      groups.add(new Group(members, longest));
      start = end;
    }
    return groups;
  }
}
