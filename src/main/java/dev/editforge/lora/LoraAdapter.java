package dev.editforge.lora;

import dev.editforge.llm.ModelConfig;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.SplittableRandom;

/**
 * One LoRA adapter held on the Java heap: its {@link LoraConfig} and, per target ({@link
 * LoraTarget#key()}), factor A {@code [r, in]} and B {@code [out, r]} as row-major float32 arrays.
 * The portable form: {@link PeftAdapters} saves and loads it, {@link LoraStack} puts many on a
 * device for training or generation. It may carry {@link TrainableTokens} (the rows of tokens a
 * fine-tune added, trained beside the factors), or none. Immutable once built (arrays are not
 * copied on access: do not modify them).
 */
public final class LoraAdapter {
  /** Factors of one target. */
  public record Factors(LoraTarget target, float[] a, float[] b) {
    public int rank() {
      return a.length / target.in();
    }
  }

  private final LoraConfig config;
  private final Map<String, Factors> factors;
  private final TrainableTokens tokens;

  public LoraAdapter(LoraConfig config, Map<String, Factors> factors) {
    this(config, factors, null);
  }

  /** With trainable rows for added tokens ({@code tokens} may be null). */
  public LoraAdapter(LoraConfig config, Map<String, Factors> factors, TrainableTokens tokens) {
    this.config = config;
    this.factors = Collections.unmodifiableMap(new LinkedHashMap<>(factors));
    this.tokens = tokens;
    for (Factors f : factors.values()) {
      if (f.a().length != config.rank() * f.target().in()
          || f.b().length != f.target().out() * config.rank()) {
        throw new IllegalArgumentException(
            "factors of " + f.target().key() + " do not have rank " + config.rank());
      }
    }
  }

  /**
   * A fresh adapter initialized as PEFT does by default ({@code init_lora_weights=True}): A
   * Kaiming-uniform with a = sqrt(5), i.e. uniform in {@code ±1/sqrt(in)}; B zero, so the adapted
   * model starts equal to the base. Values depend only on {@code seed} and each target.
   */
  public static LoraAdapter initialize(ModelConfig model, LoraConfig config, long seed) {
    Map<String, Factors> out = new LinkedHashMap<>();
    for (LoraTarget t : config.targetsOf(model)) {
      SplittableRandom rng =
          new SplittableRandom(Seeds.mix(seed, 1, t.layer(), t.projection().ordinal()));
      float[] a = new float[config.rank() * t.in()];
      double bound = 1.0 / Math.sqrt(t.in());
      for (int i = 0; i < a.length; i++) {
        a[i] = (float) ((rng.nextDouble() * 2 - 1) * bound);
      }
      out.put(t.key(), new Factors(t, a, new float[t.out() * config.rank()]));
    }
    return new LoraAdapter(config, out);
  }

  public LoraConfig config() {
    return config;
  }

  /** The trainable rows of added tokens, or null when the adapter has none. */
  public TrainableTokens trainableTokens() {
    return tokens;
  }

  /** This adapter with {@code rows} as its trainable token rows (null = none). */
  public LoraAdapter withTrainableTokens(TrainableTokens rows) {
    return new LoraAdapter(config, factors, rows);
  }

  /** Factors by {@link LoraTarget#key()}, in layer then projection order. */
  public Map<String, Factors> factors() {
    return factors;
  }

  public List<LoraTarget> targets() {
    return factors.values().stream().map(Factors::target).toList();
  }

  /** Trainable parameters: sum of r * (in + out) over targets, plus any token rows. */
  public long parameterCount() {
    long n = tokens == null ? 0 : tokens.parameterCount();
    for (Factors f : factors.values()) {
      n += f.a().length + f.b().length;
    }
    return n;
  }
}
