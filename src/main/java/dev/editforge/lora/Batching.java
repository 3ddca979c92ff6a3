package dev.editforge.lora;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.TreeMap;

/**
 * The four ways editforge turns tokenized SFT samples into training rows, then rows into padded
 * batches ({@link Batch}).
 *
 * <ul>
 *   <li>{@link Mode#PADDING}: one sample per row (cut to {@code maxLength}); batches pad to their
 *       longest row.
 *   <li>{@link Mode#PACKED}: every sample concatenated in dataset order and cut every {@code
 *       maxLength} tokens, samples split across rows where the cut falls (Hugging Face's {@code
 *       group_texts}); positions run 0..T-1 per row and attention spans the whole row. Nothing is
 *       dropped: the last row may be shorter.
 *   <li>{@link Mode#CONCAT}: samples sorted by length; the longest remaining sample opens a row and
 *       the shortest remaining ones join it while they fit, so no sample is ever split; positions
 *       and attention as in PACKED.
 *   <li>{@link Mode#BFD}: best-fit-decreasing bin packing (longest first, each into the row whose
 *       free space it fills best), with positions restarting at 0 for every sample and attention
 *       confined to each sample (a block-diagonal causal mask via {@code segmentIds}): every sample
 *       computes exactly what it would alone.
 * </ul>
 *
 * In CONCAT and BFD the label of each sample's first token inside a row is set to {@value
 * TokenizedSample#IGNORE}: alone that label is never scored (causal shift), packed it would be
 * predicted from the previous sample. In PADDING, CONCAT and BFD a sample longer than {@code
 * maxLength} is cut from the right (counted in {@link Plan#truncatedTokens()}).
 */
public final class Batching {
  private Batching() {}

  public enum Mode {
    PADDING,
    PACKED,
    CONCAT,
    BFD;

    public String wireName() {
      return name().toLowerCase(Locale.ROOT);
    }

    public static Mode parse(String s) {
      for (Mode m : values()) {
        if (m.wireName().equals(s.toLowerCase(Locale.ROOT))) {
          return m;
        }
      }
      throw new IllegalArgumentException(
          "batching must be one of padding, packed, concat, bfd; got \"" + s + "\"");
    }
  }

  /**
   * One training row before padding.
   *
   * @param positionIds rotary positions
   * @param segmentIds per-token sample number inside the row when attention must stay inside each
   *     sample (BFD), else null (one causal sequence)
   * @param samples how many samples (or pieces of samples, for PACKED) the row holds
   */
  public record Row(
      int[] inputIds, int[] labels, int[] positionIds, int[] segmentIds, int samples) {
    public int length() {
      return inputIds.length;
    }
  }

  /** The rows of one mode and what they cost. */
  public record Plan(Mode mode, List<Row> rows, int samples, long tokens, long truncatedTokens) {}

  public static Plan plan(List<TokenizedSample> samples, Mode mode, int maxLength) {
    if (maxLength < 2) {
      throw new IllegalArgumentException("maxLength must be >= 2");
    }
    long truncated = 0;
    List<TokenizedSample> cut = new ArrayList<>(samples.size());
    for (TokenizedSample s : samples) {
      if (mode != Mode.PACKED && s.length() > maxLength) {
        truncated += s.length() - maxLength;
        cut.add(s.truncate(maxLength));
      } else {
        cut.add(s);
      }
    }
    List<Row> rows =
        switch (mode) {
          case PADDING -> padding(cut);
          case PACKED -> packed(cut, maxLength);
          case CONCAT -> concat(cut, maxLength);
          case BFD -> bfd(cut, maxLength);
        };
    long tokens = 0;
    for (Row r : rows) {
      tokens += r.length();
    }
    return new Plan(mode, List.copyOf(rows), samples.size(), tokens, truncated);
  }

  private static List<Row> padding(List<TokenizedSample> samples) {
    List<Row> rows = new ArrayList<>(samples.size());
    for (TokenizedSample s : samples) {
      rows.add(new Row(s.inputIds().clone(), s.labels().clone(), range(s.length()), null, 1));
    }
    return rows;
  }

  private static List<Row> packed(List<TokenizedSample> samples, int maxLength) {
    long total = 0;
    for (TokenizedSample s : samples) {
      total += s.length();
    }
    List<Row> rows = new ArrayList<>();
    int[] ids = new int[(int) Math.min(maxLength, total)];
    int[] labels = new int[ids.length];
    int fill = 0;
    int pieces = 0;
    long left = total;
    for (TokenizedSample s : samples) {
      int pos = 0;
      while (pos < s.length()) {
        int n = Math.min(s.length() - pos, ids.length - fill);
        System.arraycopy(s.inputIds(), pos, ids, fill, n);
        System.arraycopy(s.labels(), pos, labels, fill, n);
        fill += n;
        pos += n;
        pieces++;
        left -= n;
        if (fill == ids.length) {
          rows.add(new Row(ids, labels, range(fill), null, pieces));
          int next = (int) Math.min(maxLength, left);
          ids = new int[next];
          labels = new int[next];
          fill = 0;
          pieces = 0;
        }
      }
    }
    return rows;
  }

  /** Indices sorted by length, longest first; ties keep dataset order. */
  private static Integer[] byLengthDescending(List<TokenizedSample> samples) {
    Integer[] order = new Integer[samples.size()];
    for (int i = 0; i < order.length; i++) {
      order[i] = i;
    }
    Arrays.sort(
        order,
        Comparator.<Integer>comparingInt(i -> -samples.get(i).length()).thenComparingInt(i -> i));
    return order;
  }

  private static List<Row> concat(List<TokenizedSample> samples, int maxLength) {
    Integer[] order = byLengthDescending(samples);
    List<Row> rows = new ArrayList<>();
    int lo = 0;
    int hi = order.length - 1;
    while (lo <= hi) {
      List<TokenizedSample> members = new ArrayList<>();
      TokenizedSample first = samples.get(order[lo++]);
      members.add(first);
      int used = first.length();
      while (lo <= hi && used + samples.get(order[hi]).length() <= maxLength) {
        TokenizedSample s = samples.get(order[hi--]);
        members.add(s);
        used += s.length();
      }
      rows.add(join(members, false));
    }
    return rows;
  }

  private static List<Row> bfd(List<TokenizedSample> samples, int maxLength) {
    Integer[] order = byLengthDescending(samples);
    List<List<TokenizedSample>> bins = new ArrayList<>();
    List<Integer> free = new ArrayList<>();
    // free space -> bins with exactly that much free space, lowest bin index first
    TreeMap<Integer, java.util.TreeSet<Integer>> byFree = new TreeMap<>();
    for (Integer i : order) {
      TokenizedSample s = samples.get(i);
      Map.Entry<Integer, java.util.TreeSet<Integer>> fit = byFree.ceilingEntry(s.length());
      int bin;
      if (fit == null) {
        bin = bins.size();
        bins.add(new ArrayList<>());
        free.add(maxLength);
      } else {
        bin = fit.getValue().first();
        fit.getValue().remove(bin);
        if (fit.getValue().isEmpty()) {
          byFree.remove(fit.getKey());
        }
      }
      bins.get(bin).add(s);
      int left = free.get(bin) - s.length();
      free.set(bin, left);
      if (left > 0) {
        byFree.computeIfAbsent(left, k -> new java.util.TreeSet<>()).add(bin);
      }
    }
    List<Row> rows = new ArrayList<>(bins.size());
    for (List<TokenizedSample> b : bins) {
      rows.add(join(b, true));
    }
    return rows;
  }

  /** Samples end to end in one row; later samples' first labels masked; BFD restarts positions. */
  private static Row join(List<TokenizedSample> members, boolean blockDiagonal) {
    int n = 0;
    for (TokenizedSample s : members) {
      n += s.length();
    }
    int[] ids = new int[n];
    int[] labels = new int[n];
    int[] positions = new int[n];
    int[] segments = blockDiagonal ? new int[n] : null;
    int at = 0;
    for (int k = 0; k < members.size(); k++) {
      TokenizedSample s = members.get(k);
      System.arraycopy(s.inputIds(), 0, ids, at, s.length());
      System.arraycopy(s.labels(), 0, labels, at, s.length());
      if (k > 0) {
        labels[at] = TokenizedSample.IGNORE;
      }
      for (int t = 0; t < s.length(); t++) {
        positions[at + t] = blockDiagonal ? t : at + t;
        if (segments != null) {
          segments[at + t] = k;
        }
      }
      at += s.length();
    }
    return new Row(ids, labels, positions, segments, members.size());
  }

  private static int[] range(int n) {
    int[] r = new int[n];
    for (int i = 0; i < n; i++) {
      r[i] = i;
    }
    return r;
  }

  /**
   * Rows padded on the right to the longest row: padding has id {@code padId}, label {@value
   * TokenizedSample#IGNORE}, attention 0, position 0 and segment -1. Arrays are row-major {@code
   * [rows, time]}.
   */
  public record Batch(
      int rows,
      int time,
      long[] inputIds,
      long[] labels,
      long[] positionIds,
      long[] attention,
      int[] segmentIds) {

    /** Tokens that are padding. */
    public long paddingTokens() {
      long n = 0;
      for (long a : attention) {
        if (a == 0) {
          n++;
        }
      }
      return n;
    }

    /** Label positions that carry a loss (shifted, not IGNORE). */
    public long lossTokens() {
      long n = 0;
      for (int r = 0; r < rows; r++) {
        for (int t = 1; t < time; t++) {
          if (labels[r * time + t] != TokenizedSample.IGNORE) {
            n++;
          }
        }
      }
      return n;
    }

    /**
     * {@code [rows, time, time]}: 1 where query t may attend to key s by segment (same sample, not
     * padding); causality is the model's. Null when no row has segments.
     */
    public byte[] attendMask() {
      if (segmentIds == null) {
        return null;
      }
      byte[] m = new byte[rows * time * time];
      for (int r = 0; r < rows; r++) {
        for (int q = 0; q < time; q++) {
          int sq = segmentIds[r * time + q];
          for (int k = 0; k < time; k++) {
            int sk = segmentIds[r * time + k];
            m[(r * time + q) * time + k] = (byte) (sq >= 0 && sq == sk ? 1 : 0);
          }
        }
      }
      return m;
    }
  }

  /** Consecutive groups of {@code batchSize} rows, each padded to its longest row. */
  public static List<Batch> batches(List<Row> rows, int batchSize, int padId) {
    if (batchSize < 1) {
      throw new IllegalArgumentException("batchSize must be >= 1");
    }
    List<Batch> out = new ArrayList<>();
    for (int from = 0; from < rows.size(); from += batchSize) {
      out.add(batch(rows.subList(from, Math.min(rows.size(), from + batchSize)), padId));
    }
    return out;
  }

  public static Batch batch(List<Row> rows, int padId) {
    int time = 0;
    boolean segmented = false;
    for (Row r : rows) {
      time = Math.max(time, r.length());
      segmented |= r.segmentIds() != null;
    }
    int b = rows.size();
    long[] ids = new long[b * time];
    long[] labels = new long[b * time];
    long[] positions = new long[b * time];
    long[] attention = new long[b * time];
    int[] segments = segmented ? new int[b * time] : null;
    Arrays.fill(ids, padId);
    Arrays.fill(labels, TokenizedSample.IGNORE);
    if (segments != null) {
      Arrays.fill(segments, -1);
    }
    for (int i = 0; i < b; i++) {
      Row r = rows.get(i);
      for (int t = 0; t < r.length(); t++) {
        int at = i * time + t;
        ids[at] = r.inputIds()[t];
        labels[at] = r.labels()[t];
        positions[at] = r.positionIds()[t];
        attention[at] = 1;
        if (segments != null) {
          segments[at] = r.segmentIds() == null ? 0 : r.segmentIds()[t];
        }
      }
    }
    return new Batch(b, time, ids, labels, positions, attention, segments);
  }
}
