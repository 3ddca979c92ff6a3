package dev.editforge.lora;

import dev.editforge.llm.Projection;

/**
 * One adapted projection: layer, module, and the factor shapes A {@code [r, in]}, B {@code [out,
 * r]}.
 */
public record LoraTarget(int layer, Projection projection, int in, int out) {
  /**
   * {@code "3.q_proj"}: the key of this target in adapter maps (GPT-2: {@code "3.attn.c_proj"}, see
   * {@link Projection#key()}).
   */
  public String key() {
    return key(layer, projection.key());
  }

  /** {@code module} is a {@link Projection#key()}. */
  public static String key(int layer, String module) {
    return layer + "." + module;
  }

  /**
   * PEFT's tensor name of factor A: {@code
   * base_model.model.model.layers.3.self_attn.q_proj.lora_A.weight}.
   */
  public String peftA() {
    return "base_model.model." + projection.modulePath(layer) + ".lora_A.weight";
  }

  public String peftB() {
    return "base_model.model." + projection.modulePath(layer) + ".lora_B.weight";
  }
}
