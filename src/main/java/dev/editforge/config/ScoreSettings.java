package dev.editforge.config;

import com.typesafe.config.Config;
import com.typesafe.config.ConfigFactory;
import java.io.Serializable;
import java.util.List;
import java.util.regex.Pattern;

/**
 * What the score stage itself reads: {@code editforge.ttt.{model, eval-times, seed, commit-every,
 * mode, device}}, plus {@code judge.kind} and {@code remote.endpoint} (the judge and vLLM server
 * the scorer talks to). The LoRA/trainer keys belong to {@code TttSettings}; the {@link Lora}
 * description written into every {@code ttt_scores} row is read from {@code ttt.epochs}, {@code
 * ttt.lr} and {@code ttt.lora.*} when those keys exist, SEAL's defaults otherwise. {@code
 * ttt.max-error-fraction} is the share of self-edits that may be unusable (a generation error, a
 * blank completion, an unknown article or one without questions) before score fails with exit 3.
 */
public record ScoreSettings(
    String model,
    int evalTimes,
    long seed,
    int commitEvery,
    Mode mode,
    String device,
    String judgeKind,
    String endpoint,
    Lora lora,
    MaxErrorFraction maxErrorFraction)
    implements Serializable {

  public enum Mode {
    LOCAL,
    VLLM
  }

  private static final Pattern DEVICE = Pattern.compile("auto|cpu|gpu|gpu:\\d+");

  /** The {@code lora} struct of a {@code ttt_scores} row: how the inner adapters were trained. */
  public record Lora(
      int rank,
      double alpha,
      double dropout,
      List<String> targets,
      int epochs,
      double lr,
      long seed)
      implements Serializable {
    public Lora {
      targets = List.copyOf(targets);
    }

    /** SEAL's inner-loop LoRA: rank 32, alpha 64, dropout 0, q_proj/v_proj, 10 epochs, lr 1e-3. */
    public static Lora seal(long seed) {
      return new Lora(32, 64.0, 0.0, List.of("q_proj", "v_proj"), 10, 1e-3, seed);
    }
  }

  public static ScoreSettings from(EditforgeSettings settings) {
    Config ttt =
        settings.raw().hasPath("editforge.ttt")
            ? settings.raw().getConfig("editforge.ttt")
            : ConfigFactory.empty();
    return from(
        new ConfigReader(ttt, "editforge.ttt"),
        settings.judge().kind(),
        settings.remote().endpoint().toString());
  }

  public static ScoreSettings from(ConfigReader r, String judgeKind, String endpoint) {
    long seed = r.longValue("seed", 0, Long.MAX_VALUE);
    String device = r.nonEmpty("device");
    if (!DEVICE.matcher(device).matches()) {
      throw new SettingsException(r.full("device"), device, "must be auto, cpu, gpu or gpu:N");
    }
    Lora seal = Lora.seal(seed);
    Lora lora =
        new Lora(
            r.has("lora.rank") ? r.integer("lora.rank", 1, 4096) : seal.rank(),
            r.has("lora.alpha") ? r.number("lora.alpha", 0.0, 1e6) : seal.alpha(),
            r.has("lora.dropout") ? r.number("lora.dropout", 0.0, 1.0) : seal.dropout(),
            r.has("lora.targets") ? r.strings("lora.targets") : seal.targets(),
            r.has("epochs") ? r.integer("epochs", 0, 100_000) : seal.epochs(),
            r.has("lr") ? r.number("lr", 0.0, 10.0) : seal.lr(),
            seed);
    return new ScoreSettings(
        r.nonEmpty("model"),
        r.integer("eval-times", 1, 1000),
        seed,
        r.integer("commit-every", 1, 1_000_000),
        r.enumValue("mode", Mode.class),
        device,
        judgeKind,
        endpoint,
        lora,
        MaxErrorFraction.read(r, "max-error-fraction"));
  }
}
