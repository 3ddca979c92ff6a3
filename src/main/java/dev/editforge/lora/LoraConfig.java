package dev.editforge.lora;

import dev.editforge.llm.ModelConfig;
import dev.editforge.llm.Projection;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Set;

/**
 * The shape of a LoRA adapter, as PEFT's {@code LoraConfig}: rank {@code r}, {@code lora_alpha},
 * {@code lora_dropout} and the target modules. The adapted projection computes {@code W x + (alpha
 * / r) * B A dropout(x)}.
 *
 * @param targets module names ({@code q_proj}, ...; GPT-2: {@code c_attn}, {@code c_proj}, {@code
 *     c_fc}; see {@link Projection}), or the single entry {@code all-linear} for every projection
 *     of every layer (PEFT's shorthand; the LM head is not adapted, as in PEFT)
 */
public record LoraConfig(int rank, double alpha, double dropout, List<String> targets) {
  public static final String ALL_LINEAR = "all-linear";

  public LoraConfig {
    if (rank < 1) {
      throw new IllegalArgumentException("LoRA rank must be >= 1, got " + rank);
    }
    if (!(alpha > 0)) {
      throw new IllegalArgumentException("LoRA alpha must be > 0, got " + alpha);
    }
    if (!(dropout >= 0 && dropout < 1)) {
      throw new IllegalArgumentException("LoRA dropout must be in [0, 1), got " + dropout);
    }
    targets = List.copyOf(targets);
    if (targets.isEmpty()) {
      throw new IllegalArgumentException("LoRA needs at least one target module");
    }
    for (String t : targets) {
      if (!t.equals(ALL_LINEAR)) {
        Projection.byModuleName(t);
      }
    }
    if (targets.contains(ALL_LINEAR) && targets.size() > 1) {
      throw new IllegalArgumentException("all-linear must be the only target, got " + targets);
    }
  }

  /** SEAL's inner-loop adapter: rank 32, alpha 64, dropout 0, q_proj and v_proj. */
  public static LoraConfig seal() {
    return new LoraConfig(32, 64, 0.0, List.of("q_proj", "v_proj"));
  }

  /** {@code alpha / rank}: the factor on {@code B A x}. */
  public double scaling() {
    return alpha / rank;
  }

  /**
   * The adapted projections of a Llama-family model, in {@link Projection} order ({@link
   * #projectionsOf} for any architecture).
   */
  public List<Projection> projections() {
    return pick(Projection.llamaFamily());
  }

  /**
   * The adapted projections of a model of {@code model}'s architecture, in forward order: for GPT-2
   * {@code c_proj} names both the attention and the MLP output, as in PEFT, whose target names
   * match module-name suffixes. Throws when no target names a projection of that architecture.
   */
  public List<Projection> projectionsOf(ModelConfig model) {
    List<Projection> out = pick(Projection.of(model));
    if (out.isEmpty()) {
      throw new IllegalArgumentException(
          "LoRA targets "
              + targets
              + " name no projection of a "
              + model.modelType()
              + " model; its projections are "
              + Projection.of(model).stream().map(Projection::moduleName).distinct().toList());
    }
    return out;
  }

  private List<Projection> pick(List<Projection> candidates) {
    if (targets.contains(ALL_LINEAR)) {
      return candidates;
    }
    Set<Projection> set = new LinkedHashSet<>();
    for (Projection p : candidates) {
      if (targets.contains(p.moduleName())) {
        set.add(p);
      }
    }
    return new ArrayList<>(set);
  }

  /** The module names as PEFT's {@code target_modules} lists them (all-linear expanded). */
  public List<String> moduleNames() {
    return projections().stream().map(Projection::moduleName).toList();
  }

  /** Every (layer, projection) the adapter covers in a model of {@code config}. */
  public List<LoraTarget> targetsOf(ModelConfig config) {
    List<LoraTarget> out = new ArrayList<>();
    for (int l = 0; l < config.numHiddenLayers(); l++) {
      for (Projection p : projectionsOf(config)) {
        out.add(new LoraTarget(l, p, p.inFeatures(config), p.outFeatures(config)));
      }
    }
    return out;
  }
}
