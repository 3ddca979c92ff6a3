package dev.editforge.llm;

import java.util.Arrays;
import java.util.List;

/**
 * The seven linear projections of a Llama-family decoder layer, named as Hugging Face names them.
 * LoRA targets modules by {@link #moduleName()} ({@code q_proj}, ...); weights are {@code [out,
 * in]} as in PyTorch's {@code nn.Linear}.
 */
public enum Projection {
  Q_PROJ("self_attn", "q_proj"),
  K_PROJ("self_attn", "k_proj"),
  V_PROJ("self_attn", "v_proj"),
  O_PROJ("self_attn", "o_proj"),
  GATE_PROJ("mlp", "gate_proj"),
  UP_PROJ("mlp", "up_proj"),
  DOWN_PROJ("mlp", "down_proj");

  private final String block;
  private final String moduleName;

  Projection(String block, String moduleName) {
    this.block = block;
    this.moduleName = moduleName;
  }

  /** {@code q_proj}, {@code gate_proj}, ...: what LoRA's {@code target_modules} list. */
  public String moduleName() {
    return moduleName;
  }

  /** {@code model.layers.3.self_attn.q_proj}: the PEFT module path, without {@code .weight}. */
  public String modulePath(int layer) {
    return "model.layers." + layer + "." + block + "." + moduleName;
  }

  public String weightName(int layer) {
    return modulePath(layer) + ".weight";
  }

  public String biasName(int layer) {
    return modulePath(layer) + ".bias";
  }

  public int inFeatures(ModelConfig c) {
    return switch (this) {
      case Q_PROJ, K_PROJ, V_PROJ, GATE_PROJ, UP_PROJ -> c.hiddenSize();
      case O_PROJ -> c.numAttentionHeads() * c.headDim();
      case DOWN_PROJ -> c.intermediateSize();
    };
  }

  public int outFeatures(ModelConfig c) {
    return switch (this) {
      case Q_PROJ -> c.numAttentionHeads() * c.headDim();
      case K_PROJ, V_PROJ -> c.numKeyValueHeads() * c.headDim();
      case O_PROJ, DOWN_PROJ -> c.hiddenSize();
      case GATE_PROJ, UP_PROJ -> c.intermediateSize();
    };
  }

  public boolean hasBias(ModelConfig c) {
    return switch (this) {
      case Q_PROJ, K_PROJ, V_PROJ -> c.qkvBias();
      case O_PROJ -> c.oBias();
      case GATE_PROJ, UP_PROJ, DOWN_PROJ -> c.mlpBias();
    };
  }

  /** The projection named {@code q_proj} etc.; throws with the list of valid names otherwise. */
  public static Projection byModuleName(String name) {
    for (Projection p : values()) {
      if (p.moduleName.equals(name)) {
        return p;
      }
    }
    throw new IllegalArgumentException(
        "unknown module \"" + name + "\"; decoder projections are " + moduleNames());
  }

  public static List<String> moduleNames() {
    return Arrays.stream(values()).map(Projection::moduleName).toList();
  }
}
