package dev.editforge.judge;

import dev.editforge.text.PyText;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.regex.Pattern;

/**
 * The SQuAD v1.1 evaluation script's answer normalization and token overlap: lower-case, remove
 * ASCII punctuation ({@code string.punctuation}), replace the articles a/an/the by a space, and
 * collapse whitespace; F1 over the bag of normalized tokens.
 */
public final class SquadText {
  private static final String PUNCTUATION = "!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~";
  private static final Pattern ARTICLES =
      Pattern.compile("\\b(a|an|the)\\b", Pattern.UNICODE_CHARACTER_CLASS);

  private SquadText() {}

  /** SQuAD's {@code normalize_answer}. */
  public static String normalize(String s) {
    String lower = s.toLowerCase(Locale.ROOT);
    StringBuilder noPunct = new StringBuilder(lower.length());
    for (int i = 0; i < lower.length(); i++) {
      char c = lower.charAt(i);
      if (PUNCTUATION.indexOf(c) < 0) {
        noPunct.append(c);
      }
    }
    String noArticles = ARTICLES.matcher(noPunct).replaceAll(" ");
    return String.join(" ", PyText.splitWhitespace(noArticles));
  }

  public static List<String> tokens(String s) {
    return PyText.splitWhitespace(normalize(s));
  }

  /** SQuAD's {@code f1_score}: 0 when no token is shared. */
  public static double f1(String prediction, String gold) {
    List<String> p = tokens(prediction);
    List<String> g = tokens(gold);
    int same = common(p, g);
    if (same == 0) {
      return 0.0;
    }
    double precision = (double) same / p.size();
    double recall = (double) same / g.size();
    return 2 * precision * recall / (precision + recall);
  }

  /** The share of the gold's normalized tokens (with multiplicity) found in the prediction. */
  public static double goldRecall(String prediction, String gold) {
    List<String> g = tokens(gold);
    if (g.isEmpty()) {
      return 0.0;
    }
    return (double) common(tokens(prediction), g) / g.size();
  }

  private static int common(List<String> a, List<String> b) {
    Map<String, Integer> counts = new HashMap<>();
    for (String t : a) {
      counts.merge(t, 1, Integer::sum);
    }
    int same = 0;
    for (String t : b) {
      Integer c = counts.get(t);
      if (c != null && c > 0) {
        counts.put(t, c - 1);
        same++;
      }
    }
    return same;
  }
}
