package dev.editforge.text;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * Reads the chosen option letter out of a reasoning trace, checks it against the gold answer, and
 * votes over several sampled traces of one question (self-consistency).
 *
 * <p>Extraction: the text (by default only its last non-blank line) is NFKC-normalized — so
 * full-width "Ａ" and "：" count as "A" and ":" — and searched with each pattern in turn; the first
 * pattern that matches decides, and within it the last match (the final answer when a line restates
 * an earlier one). Group 1 is the letter. A letter outside the problem's options counts as no
 * answer. The default patterns accept "Answer: X" and "answer is X" (any case of "answer", optional
 * markdown bold or parenthesis before X, X not followed by a letter) and "答案是：X" / "答案是:X" / "答案为X"
 * / "答案：X".
 *
 * <p>Voting: no-answer samples do not vote but do count in the share. The majority letter wins;
 * {@code voteShare} = its votes / all samples. Tie rule: among letters with the most votes, the one
 * voted for first in sample order wins — deterministic, independent of letter order, and what
 * Python's {@code Counter(answers).most_common(1)} returns, which most self-consistency code uses.
 * With no answer at all the majority is null and the share 0.
 */
public final class AnswerVoting {
  public static final List<String> DEFAULT_PATTERNS =
      List.of(
          "(?i:answer)(?:\\s*[:：]|\\s+is\\s*[:：]?)[\\s*(（]*([A-Z])(?![A-Za-z])",
          "答案(?:是|为)?\\s*[:：]?[\\s*(（]*([A-Z])(?![A-Za-z])");

  private final List<Pattern> patterns;
  private final boolean lastLineOnly;

  public AnswerVoting(List<String> patterns, boolean lastLineOnly) {
    if (patterns.isEmpty()) {
      throw new IllegalArgumentException("at least one answer pattern is required");
    }
    List<Pattern> compiled = new ArrayList<>();
    for (String p : patterns) {
      Pattern c;
      try {
        c = Pattern.compile(p);
      } catch (PatternSyntaxException e) {
        throw new IllegalArgumentException(
            "answer pattern " + p + " is not a valid regex: " + e.getDescription(), e);
      }
      if (c.matcher("").groupCount() < 1) {
        throw new IllegalArgumentException(
            "answer pattern " + p + " needs a capture group around the option letter");
      }
      compiled.add(c);
    }
    this.patterns = List.copyOf(compiled);
    this.lastLineOnly = lastLineOnly;
  }

  public static AnswerVoting defaults() {
    return new AnswerVoting(DEFAULT_PATTERNS, true);
  }

  /**
   * The option letter the trace ends on, or null. {@code optionCount} bounds the letters (0: any
   * A-Z).
   */
  public String extract(String trace, int optionCount) {
    if (trace == null) {
      return null;
    }
    String text =
        Normalizer.normalize(lastLineOnly ? lastLine(trace) : trace, Normalizer.Form.NFKC);
    for (Pattern p : patterns) {
      Matcher m = p.matcher(text);
      String found = null;
      while (m.find()) {
        found = m.group(1);
      }
      if (found != null) {
        String letter = found.strip().toUpperCase(java.util.Locale.ROOT);
        if (letter.length() != 1 || letter.charAt(0) < 'A' || letter.charAt(0) > 'Z') {
          return null;
        }
        if (optionCount > 0 && letter.charAt(0) >= 'A' + optionCount) {
          return null;
        }
        return letter;
      }
    }
    return null;
  }

  /** True when a letter was extracted and it is the gold letter. */
  public static boolean agrees(String predicted, String goldLetter) {
    return predicted != null && predicted.equals(goldLetter);
  }

  /**
   * The gold answer as a letter. Accepted, in this order: a letter naming an option ("B", "b",
   * "(B)"); the exact text of an option; a 0-based option index ("1" = B). Null when the answer is
   * missing or matches none.
   */
  public static String goldLetter(String answer, List<String> options) {
    if (answer == null || answer.isBlank()) {
      return null;
    }
    String a = answer.strip();
    String bare = a.replaceAll("^[(（]?([A-Za-z])[)）.]?$", "$1");
    if (bare.length() == 1 && Character.isLetter(bare.charAt(0))) {
      char c = Character.toUpperCase(bare.charAt(0));
      if (c >= 'A' && c < 'A' + options.size()) {
        return String.valueOf(c);
      }
    }
    for (int i = 0; i < options.size(); i++) {
      if (options.get(i).strip().equals(a)) {
        return ReasoningPrompts.letter(i);
      }
    }
    if (a.matches("\\d{1,2}")) {
      int i = Integer.parseInt(a);
      if (i < options.size()) {
        return ReasoningPrompts.letter(i);
      }
    }
    return null;
  }

  /** The outcome of voting over one question's samples. */
  public record Vote(
      String answer,
      double voteShare,
      int samples,
      int answered,
      Map<String, Integer> counts,
      boolean tie) {
    public Vote {
      counts = java.util.Collections.unmodifiableMap(new LinkedHashMap<>(counts));
    }
  }

  /** Votes over extracted letters (null = no answer), in sample order. */
  public static Vote vote(List<String> predictions) {
    Map<String, Integer> counts = new LinkedHashMap<>();
    int answered = 0;
    for (String p : predictions) {
      if (p != null) {
        counts.merge(p, 1, Integer::sum);
        answered++;
      }
    }
    String best = null;
    int bestCount = 0;
    boolean tie = false;
    // LinkedHashMap iterates in first-vote order, so a strict > keeps the earliest on ties.
    for (Map.Entry<String, Integer> e : counts.entrySet()) {
      if (e.getValue() > bestCount) {
        best = e.getKey();
        bestCount = e.getValue();
        tie = false;
      } else if (e.getValue() == bestCount) {
        tie = true;
      }
    }
    double share = predictions.isEmpty() ? 0.0 : (double) bestCount / predictions.size();
    return new Vote(best, share, predictions.size(), answered, counts, tie);
  }

  private static String lastLine(String text) {
    String[] lines = text.split("\\R");
    for (int i = lines.length - 1; i >= 0; i--) {
      if (!lines[i].isBlank()) {
        return lines[i];
      }
    }
    return "";
  }
}
