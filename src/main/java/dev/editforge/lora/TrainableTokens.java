package dev.editforge.lora;

import ai.djl.ndarray.NDArray;
import dev.editforge.llm.DecoderLayout;
import dev.editforge.llm.DecoderModel;
import java.util.Arrays;

/**
 * Full trainable rows for a contiguous range of token ids (the tokens a fine-tune added), trained
 * beside the LoRA factors as PEFT's {@code trainable_token_indices} trains them: the values
 * <em>replace</em> the base model's embedding rows (and LM-head rows) of those ids, every other row
 * stays frozen. Held on the Java heap, row-major {@code [count, hidden]} float32.
 *
 * @param start the first id ({@code len(tokenizer)} before the tokens were added)
 * @param count how many ids, {@code start .. start + count - 1}
 * @param hidden the model's hidden size
 * @param embed the input-embedding rows
 * @param head the LM-head rows; null when the model ties them to the embeddings (then {@code embed}
 *     serves both, as PEFT's tied adapter does)
 */
public record TrainableTokens(int start, int count, int hidden, float[] embed, float[] head) {
  public TrainableTokens {
    if (start < 0 || count < 1 || hidden < 1) {
      throw new IllegalArgumentException(
          "trainable tokens need start >= 0, count >= 1, hidden >= 1");
    }
    if (embed.length != count * hidden || head != null && head.length != count * hidden) {
      throw new IllegalArgumentException(
          "trainable token rows must be [" + count + ", " + hidden + "]");
    }
  }

  /**
   * The rows the model has now for ids {@code start .. start + count - 1} (PEFT's {@code
   * init_weights=True}: training starts from the resized model's rows).
   */
  public static TrainableTokens fromModel(DecoderModel model, int start, int count) {
    int vocab = model.config().vocabSize();
    if (start + count > vocab) {
      throw new IllegalArgumentException(
          "token ids up to " + (start + count - 1) + " but the model has " + vocab + " rows");
    }
    float[] embed = rows(model.weight(DecoderLayout.EMBED), start, count);
    float[] head =
        model.config().tieWordEmbeddings()
            ? null
            : rows(model.weight(DecoderLayout.LM_HEAD), start, count);
    return new TrainableTokens(start, count, model.config().hiddenSize(), embed, head);
  }

  private static float[] rows(NDArray weight, int start, int count) {
    try (NDArray slice = weight.get("{}:{}", start, start + count);
        NDArray f32 = slice.toType(ai.djl.ndarray.types.DataType.FLOAT32, true)) {
      return f32.toFloatArray();
    }
  }

  /** True when the LM head shares the embedding rows. */
  public boolean tied() {
    return head == null;
  }

  /** The ids, in order. */
  public int[] indices() {
    int[] ids = new int[count];
    for (int i = 0; i < count; i++) {
      ids[i] = start + i;
    }
    return ids;
  }

  /** Trainable parameters: the rows, once or twice. */
  public long parameterCount() {
    return (long) embed.length + (head == null ? 0 : head.length);
  }

  @Override
  public boolean equals(Object o) {
    return o instanceof TrainableTokens t
        && t.start == start
        && t.count == count
        && t.hidden == hidden
        && Arrays.equals(t.embed, embed)
        && Arrays.equals(t.head, head);
  }

  @Override
  public int hashCode() {
    return 31 * (31 * start + count) + Arrays.hashCode(embed);
  }

  @Override
  public String toString() {
    return "TrainableTokens[" + start + ".." + (start + count - 1) + ", tied=" + tied() + "]";
  }
}
