package dev.editforge.llm;

import java.util.Arrays;
import java.util.List;

/**
 * The linear projections of a decoder layer, named as Hugging Face names them: the seven of a
 * Llama-family layer (weights {@code [out, in]} as in PyTorch's {@code nn.Linear}) and the four of
 * a GPT-2 block (transformers' {@code Conv1D}, weights stored transposed, {@code [in, out]}; see
 * {@link #conv1d()}). LoRA targets modules by {@link #moduleName()} ({@code q_proj}, {@code
 * c_attn}, ...). GPT-2 has two modules named {@code c_proj} (attention output and MLP output), so
 * the hook of {@link ProjectionDelta} identifies a projection by {@link #key()}, which is unique.
 */
public enum Projection {
  Q_PROJ("self_attn", "q_proj"),
  K_PROJ("self_attn", "k_proj"),
  V_PROJ("self_attn", "v_proj"),
  O_PROJ("self_attn", "o_proj"),
  GATE_PROJ("mlp", "gate_proj"),
  UP_PROJ("mlp", "up_proj"),
  DOWN_PROJ("mlp", "down_proj"),
  // GPT-2 (appended so the Llama ordinals, which seed LoRA initialization, stay as they were)
  C_ATTN("attn", "c_attn"),
  ATTN_C_PROJ("attn", "c_proj"),
  C_FC("mlp", "c_fc"),
  MLP_C_PROJ("mlp", "c_proj");

  private static final List<Projection> LLAMA =
      List.of(Q_PROJ, K_PROJ, V_PROJ, O_PROJ, GATE_PROJ, UP_PROJ, DOWN_PROJ);
  private static final List<Projection> GPT2 = List.of(C_ATTN, ATTN_C_PROJ, C_FC, MLP_C_PROJ);

  private final String block;
  private final String moduleName;

  Projection(String block, String moduleName) {
    this.block = block;
    this.moduleName = moduleName;
  }

  /** The projections of a layer of {@code c}'s architecture, in forward order. */
  public static List<Projection> of(ModelConfig c) {
    return c.isGpt2() ? GPT2 : LLAMA;
  }

  /** The seven projections of a Llama-family layer. */
  public static List<Projection> llamaFamily() {
    return LLAMA;
  }

  /** Whether this is a GPT-2 {@code Conv1D}: weight {@code [in, out]}, {@code y = x W + b}. */
  public boolean conv1d() {
    return GPT2.contains(this);
  }

  /**
   * The name {@link ProjectionDelta} receives: the module name, except GPT-2's two {@code c_proj}s,
   * which are {@code attn.c_proj} and {@code mlp.c_proj}.
   */
  public String key() {
    return this == ATTN_C_PROJ || this == MLP_C_PROJ ? block + "." + moduleName : moduleName;
  }

  /** The projection whose {@link #key()} is {@code key}. */
  public static Projection byKey(String key) {
    for (Projection p : values()) {
      if (p.key().equals(key)) {
        return p;
      }
    }
    throw new IllegalArgumentException("unknown projection key \"" + key + "\"");
  }

  /** {@code self_attn}, {@code mlp} or {@code attn}: the block the module sits in. */
  public String block() {
    return block;
  }

  /** {@code q_proj}, {@code gate_proj}, ...: what LoRA's {@code target_modules} list. */
  public String moduleName() {
    return moduleName;
  }

  /** {@code model.layers.3.self_attn.q_proj}: the PEFT module path, without {@code .weight}. */
  public String modulePath(int layer) {
    if (conv1d()) {
      return Gpt2Layout.PREFIX + "h." + layer + "." + block + "." + moduleName;
    }
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
      case DOWN_PROJ, MLP_C_PROJ -> c.intermediateSize();
      case C_ATTN, ATTN_C_PROJ, C_FC -> c.hiddenSize();
    };
  }

  public int outFeatures(ModelConfig c) {
    return switch (this) {
      case Q_PROJ -> c.numAttentionHeads() * c.headDim();
      case K_PROJ, V_PROJ -> c.numKeyValueHeads() * c.headDim();
      case O_PROJ, DOWN_PROJ -> c.hiddenSize();
      case GATE_PROJ, UP_PROJ, C_FC -> c.intermediateSize();
      case C_ATTN -> 3 * c.hiddenSize();
      case ATTN_C_PROJ, MLP_C_PROJ -> c.hiddenSize();
    };
  }

  public boolean hasBias(ModelConfig c) {
    return switch (this) {
      case Q_PROJ, K_PROJ, V_PROJ -> c.qkvBias();
      case O_PROJ -> c.oBias();
      case GATE_PROJ, UP_PROJ, DOWN_PROJ -> c.mlpBias();
      case C_ATTN, ATTN_C_PROJ, C_FC, MLP_C_PROJ -> true;
    };
  }

  /**
   * The first projection named {@code q_proj} etc. (for {@code c_proj}, GPT-2's attention output);
   * throws with the list of valid names otherwise.
   */
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
    return Arrays.stream(values()).map(Projection::moduleName).distinct().toList();
  }
}
