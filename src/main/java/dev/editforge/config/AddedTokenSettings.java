package dev.editforge.config;

import dev.editforge.selfrag.ReflectionTokens;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;

/**
 * The added-token part of {@code editforge.finetune}: special tokens added to the tokenizer before
 * training, how the resized embedding rows start, and Self-RAG's loss masking of retrieved
 * passages. See reference.conf.
 *
 * @param tokens the tokens to add, presets expanded ({@link #PRESETS}), in order, no repeats
 * @param resizeMultiple embedding/LM-head rows are padded up to a multiple of this; 0 or 1 =
 *     exactly the new tokenizer size
 * @param init {@code mean} (each new row = the mean of the old rows, Self-RAG's critic script) or
 *     {@code normal} (N(0, initializer_range), transformers' {@code _init_weights})
 * @param paragraphMask {@code per-paragraph}, {@code first-to-last} (Self-RAG as written, issue
 *     #95) or {@code off}
 */
public record AddedTokenSettings(
    List<String> tokens, int resizeMultiple, String init, String paragraphMask)
    implements Serializable {

  /** Names that stand for a list of tokens in {@code added-tokens}. */
  public static final Map<String, List<String>> PRESETS =
      Map.of("selfrag", ReflectionTokens.ALL, "chatml", List.of("<|im_start|>", "<|im_end|>"));

  public static final List<String> INITS = List.of("mean", "normal");
  public static final List<String> PARAGRAPH_MASKS =
      List.of("per-paragraph", "first-to-last", "off");

  public AddedTokenSettings {
    tokens = List.copyOf(tokens);
  }

  /** None added, mean init, per-paragraph masking. */
  public static AddedTokenSettings none() {
    return new AddedTokenSettings(List.of(), 0, "mean", "per-paragraph");
  }

  /** Reads the keys from {@code editforge.finetune}'s reader. */
  public static AddedTokenSettings from(ConfigReader r) {
    return new AddedTokenSettings(
        expand(r.strings("added-tokens")),
        r.integer("resize-multiple", 0, 1 << 16),
        r.oneOf("added-tokens-init", INITS),
        r.oneOf("paragraph-mask", PARAGRAPH_MASKS));
  }

  /** Presets replaced by their tokens; repeats dropped (the first place counts). */
  public static List<String> expand(List<String> entries) {
    LinkedHashSet<String> out = new LinkedHashSet<>();
    for (String e : entries) {
      List<String> preset = PRESETS.get(e);
      if (preset != null) {
        out.addAll(preset);
      } else if (!e.isEmpty()) {
        out.add(e);
      }
    }
    return new ArrayList<>(out);
  }
}
