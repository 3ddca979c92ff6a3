package dev.editforge.llm;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;

/** The Hugging Face tensor names and shapes a decoder of a given {@link ModelConfig} has. */
public final class DecoderLayout {
  public static final String EMBED = "model.embed_tokens.weight";
  public static final String FINAL_NORM = "model.norm.weight";
  public static final String LM_HEAD = "lm_head.weight";

  private DecoderLayout() {}

  public static String inputNorm(int layer) {
    return "model.layers." + layer + ".input_layernorm.weight";
  }

  public static String postAttentionNorm(int layer) {
    return "model.layers." + layer + ".post_attention_layernorm.weight";
  }

  /** Every weight the model needs, in checkpoint order, with its expected shape. */
  public static Map<String, long[]> expectedShapes(ModelConfig c) {
    if (c.isGpt2()) {
      return Gpt2Layout.expectedShapes(c);
    }
    Map<String, long[]> out = new LinkedHashMap<>();
    out.put(EMBED, new long[] {c.vocabSize(), c.hiddenSize()});
    for (int l = 0; l < c.numHiddenLayers(); l++) {
      out.put(inputNorm(l), new long[] {c.hiddenSize()});
      for (Projection p : Projection.llamaFamily()) {
        out.put(p.weightName(l), new long[] {p.outFeatures(c), p.inFeatures(c)});
        if (p.hasBias(c)) {
          out.put(p.biasName(l), new long[] {p.outFeatures(c)});
        }
      }
      out.put(postAttentionNorm(l), new long[] {c.hiddenSize()});
    }
    out.put(FINAL_NORM, new long[] {c.hiddenSize()});
    if (!c.tieWordEmbeddings()) {
      out.put(LM_HEAD, new long[] {c.vocabSize(), c.hiddenSize()});
    }
    return Collections.unmodifiableMap(out);
  }
}
