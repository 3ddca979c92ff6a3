package dev.editforge.evaluate;

import dev.editforge.config.ConfigReader;
import dev.editforge.config.EditforgeSettings;
import dev.editforge.config.FinetuneSettings;
import dev.editforge.text.SafeText;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Seed 002's self-cognition probe, the pure part: which questions are asked, whether the configured
 * model name and author appear in an answer, and the side-by-side table people read. Thread-safe.
 *
 * @param questions asked one by one, each as one user message
 * @param names the name the tuned model should give (English and, when set, Chinese form); empty
 *     when {@code select.identity.model-name} is not set
 * @param authors the author likewise ({@code select.identity.model-author})
 */
public record IdentityProbe(
    List<String> questions,
    int maxNewTokens,
    String chatTemplate,
    List<String> names,
    List<String> authors)
    implements Serializable {

  public static final String PROBE = "identity";
  public static final List<String> PROBES = List.of("none", PROBE);

  public IdentityProbe {
    questions = List.copyOf(questions);
    names = List.copyOf(names);
    authors = List.copyOf(authors);
  }

  /**
   * {@code evaluate.identity-probe} and the name and author of {@code select.identity}, read here
   * from the config (evaluate does not import select, which owns the identity rows).
   */
  public static IdentityProbe of(EditforgeSettings settings) {
    ConfigReader root = new ConfigReader(settings.raw().getConfig("editforge"), "editforge");
    ConfigReader r = root.section("evaluate").section("identity-probe");
    ConfigReader id = root.section("select").section("identity");
    List<String> questions = r.strings("questions");
    if (questions.isEmpty()) {
      throw new dev.editforge.config.SettingsException(
          r.full("questions"), questions, "must list at least one question");
    }
    return new IdentityProbe(
        questions,
        r.integer("max-new-tokens", 1, 1 << 16),
        r.oneOf("chat-template", FinetuneSettings.chatTemplates()),
        forms(id, "model-name"),
        forms(id, "model-author"));
  }

  private static List<String> forms(ConfigReader id, String key) {
    List<String> out = new ArrayList<>();
    for (String k : List.of(key, key + "-zh")) {
      String v = id.has(k) ? id.string(k).strip() : "";
      if (!v.isEmpty() && !out.contains(v)) {
        out.add(v);
      }
    }
    return out;
  }

  /** True when one of {@code forms} is in {@code answer} (case-insensitive); null with no forms. */
  public static Boolean mentions(String answer, List<String> forms) {
    if (forms.isEmpty()) {
      return null;
    }
    String a = answer.toLowerCase(Locale.ROOT);
    return forms.stream().anyMatch(f -> a.contains(f.toLowerCase(Locale.ROOT)));
  }

  /** The printed report: per question both answers side by side, then the totals. */
  public String table(
      String base, String tuned, List<String> baseAnswers, List<String> tunedAnswers) {
    int w = 48;
    StringBuilder b = new StringBuilder();
    b.append(
        String.format(
            Locale.ROOT,
            "identity probe: base %s vs tuned %s; name %s, author %s%n",
            base,
            tuned,
            names.isEmpty() ? "(not set)" : String.join(" / ", names),
            authors.isEmpty() ? "(not set)" : String.join(" / ", authors)));
    String fmt = "%-" + w + "s | %s%n";
    int[] counts = new int[4];
    for (int i = 0; i < questions.size(); i++) {
      b.append(String.format(Locale.ROOT, "Q: %s%n", SafeText.escape(questions.get(i))));
      b.append(String.format(Locale.ROOT, fmt, "  before (base)", "after (tuned)"));
      List<String> left = wrap(baseAnswers.get(i), w - 2);
      List<String> right = wrap(tunedAnswers.get(i), w);
      for (int l = 0; l < Math.max(left.size(), right.size()); l++) {
        b.append(
            String.format(
                Locale.ROOT,
                fmt,
                "  " + (l < left.size() ? left.get(l) : ""),
                l < right.size() ? right.get(l) : ""));
      }
      Boolean bn = mentions(baseAnswers.get(i), names);
      Boolean ba = mentions(baseAnswers.get(i), authors);
      Boolean tn = mentions(tunedAnswers.get(i), names);
      Boolean ta = mentions(tunedAnswers.get(i), authors);
      counts[0] += Boolean.TRUE.equals(bn) ? 1 : 0;
      counts[1] += Boolean.TRUE.equals(ba) ? 1 : 0;
      counts[2] += Boolean.TRUE.equals(tn) ? 1 : 0;
      counts[3] += Boolean.TRUE.equals(ta) ? 1 : 0;
      b.append(
          String.format(
              Locale.ROOT,
              fmt,
              "  name " + yes(bn) + ", author " + yes(ba),
              "name " + yes(tn) + ", author " + yes(ta)));
    }
    int n = questions.size();
    b.append(
        String.format(
            Locale.ROOT,
            "name appears: before %d/%d, after %d/%d; author appears: before %d/%d, after %d/%d",
            counts[0],
            n,
            counts[2],
            n,
            counts[1],
            n,
            counts[3],
            n));
    return b.toString();
  }

  private static String yes(Boolean b) {
    return b == null ? "n/a" : b ? "yes" : "no";
  }

  /** The answer on lines of at most {@code width} characters (newlines kept as breaks). */
  static List<String> wrap(String text, int width) {
    List<String> out = new ArrayList<>();
    for (String line : text.replace("\r", "").split("\n", -1)) {
      String rest = line;
      do {
        int cut = Math.min(width, rest.length());
        // A model's text goes to the terminal: controls and bidi overrides print as escapes.
        out.add(SafeText.escape(rest.substring(0, cut)));
        rest = rest.substring(cut);
      } while (!rest.isEmpty());
    }
    return out;
  }
}
