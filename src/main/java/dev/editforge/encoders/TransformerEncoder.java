package dev.editforge.encoders;

import ai.djl.huggingface.tokenizers.Encoding;
import ai.djl.huggingface.tokenizers.HuggingFaceTokenizer;
import java.util.List;
import java.util.Objects;

/**
 * The part of a BERT-style encoder that does not depend on the engine: prefixes, tokenization,
 * truncation, length-sorted micro-batches, pooling, normalization and the checks on its output.
 * Subclasses only run the network on one padded batch. Thread-safe as long as the subclass's {@link
 * #forward} is: the tokenizer is only read after construction.
 */
abstract class TransformerEncoder implements Encoder {
  static final String EMPTY_TEXT = "empty text: nothing to embed";

  private final HuggingFaceTokenizer tokenizer;
  private final EncoderPreset preset;
  private final int maxLength;
  private final int batchSize;
  private final int maxBatchTokens;

  TransformerEncoder(
      HuggingFaceTokenizer tokenizer,
      EncoderPreset preset,
      int maxLength,
      int batchSize,
      int maxBatchTokens) {
    this.tokenizer = Objects.requireNonNull(tokenizer, "tokenizer");
    this.preset = Objects.requireNonNull(preset, "preset");
    if (maxLength < 3) {
      throw new IllegalArgumentException(
          "max length must be >= 3 (two special tokens and text), got " + maxLength);
    }
    if (batchSize < 1 || maxBatchTokens < 1) {
      throw new IllegalArgumentException("batch size and max batch tokens must be >= 1");
    }
    this.maxLength = maxLength;
    this.batchSize = batchSize;
    this.maxBatchTokens = maxBatchTokens;
  }

  /**
   * Runs the network on one right-padded batch and returns its last hidden states, row-major {@code
   * [batch, seqLen, hiddenSize]}.
   */
  protected abstract float[] forward(long[] inputIds, long[] attentionMask, int batch, int seqLen);

  /** Width of the hidden states {@link #forward} returns. */
  protected abstract int hiddenSize();

  @Override
  public int dimension() {
    return hiddenSize();
  }

  @Override
  public EncoderPreset preset() {
    return preset;
  }

  @Override
  public int maxLength() {
    return maxLength;
  }

  HuggingFaceTokenizer tokenizer() {
    return tokenizer;
  }

  @Override
  public EncodedBatch encode(List<String> texts, Role role) {
    int n = texts.size();
    float[][] vectors = new float[n][];
    String[] rejections = new String[n];
    boolean[] truncated = new boolean[n];
    long[][] ids = new long[n][];
    int[] lengths = new int[n];

    int accepted = 0;
    String[] inputs = new String[n];
    int[] inputIndex = new int[n];
    for (int i = 0; i < n; i++) {
      String text = texts.get(i);
      if (text == null || text.isBlank()) {
        rejections[i] = EMPTY_TEXT;
        continue;
      }
      inputs[accepted] = role == Role.QUERY ? preset.queryText(text) : preset.passageText(text);
      inputIndex[accepted++] = i;
    }
    if (accepted > 0) {
      String[] toTokenize = java.util.Arrays.copyOf(inputs, accepted);
      Encoding[] encodings = tokenizer.batchEncode(toTokenize);
      for (int a = 0; a < accepted; a++) {
        int i = inputIndex[a];
        long[] full = encodings[a].getIds();
        ids[i] = TokenPacking.truncate(full, encodings[a].getSpecialTokenMask(), maxLength);
        truncated[i] = ids[i].length < full.length;
        lengths[i] = ids[i].length;
      }
    }

    long tokens = 0;
    long padded = 0;
    int hidden = hiddenSize();
    for (TokenPacking.Group g : TokenPacking.group(lengths, batchSize, maxBatchTokens)) {
      int b = g.members().length;
      int len = g.paddedLength();
      long[] flatIds = new long[b * len];
      long[] mask = new long[b * len];
      for (int r = 0; r < b; r++) {
        long[] row = ids[g.members()[r]];
        System.arraycopy(row, 0, flatIds, r * len, row.length);
        java.util.Arrays.fill(mask, r * len, r * len + row.length, 1L);
        tokens += row.length;
      }
      padded += (long) b * len;
      float[] states = forward(flatIds, mask, b, len);
      if (states.length != (long) b * len * hidden) {
        throw new EmbeddingException(
            modelName()
                + " returned "
                + states.length
                + " values for a ["
                + b
                + ", "
                + len
                + ", "
                + hidden
                + "] batch");
      }
      for (int r = 0; r < b; r++) {
        int i = g.members()[r];
        float[] v = pool(states, r, len, ids[i].length, hidden, preset.pooling());
        String problem = finish(v, preset.normalize());
        if (problem != null) {
          rejections[i] = problem;
        } else {
          vectors[i] = v;
        }
      }
    }
    return new EncodedBatch(vectors, rejections, truncated, tokens, padded);
  }

  /** Pools row {@code r} of a padded batch; only the first {@code realLength} positions count. */
  static float[] pool(
      float[] states, int r, int seqLen, int realLength, int hidden, Pooling pooling) {
    float[] v = new float[hidden];
    int base = r * seqLen * hidden;
    if (pooling == Pooling.CLS) {
      System.arraycopy(states, base, v, 0, hidden);
      return v;
    }
    double[] sum = new double[hidden];
    for (int t = 0; t < realLength; t++) {
      int off = base + t * hidden;
      for (int h = 0; h < hidden; h++) {
        sum[h] += states[off + h];
      }
    }
    for (int h = 0; h < hidden; h++) {
      v[h] = (float) (sum[h] / realLength);
    }
    return v;
  }

  /**
   * Normalizes {@code v} in place if asked and returns why it is unusable, or null. A NaN or
   * infinite component would poison every HNSW distance it touches, so it is a rejection, not a
   * vector.
   */
  static String finish(float[] v, boolean normalize) {
    double norm2 = 0;
    for (float x : v) {
      if (!Float.isFinite(x)) {
        return "non-finite vector: the model produced NaN or infinity";
      }
      norm2 += (double) x * x;
    }
    if (normalize) {
      if (norm2 == 0) {
        return "zero vector: cannot be normalized";
      }
      double inv = 1.0 / Math.sqrt(norm2);
      for (int h = 0; h < v.length; h++) {
        v[h] = (float) (v[h] * inv);
      }
    }
    return null;
  }
}
