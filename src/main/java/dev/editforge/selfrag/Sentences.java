package dev.editforge.selfrag;

import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * Splits a model output into sentences the way Self-RAG's create_retrieval_data.py uses them:
 * spaCy's {@code en_core_web_sm} sentences there, a rule-based splitter here (after {@code .!?} and
 * closing quotes or brackets when whitespace follows, and at line breaks; common abbreviations and
 * single initials do not end a sentence). As there (:80-82), when an output has more than two
 * sentences, those shorter than 30 characters are marked skipped: they get no critic labels and
 * enter the generator text raw. Stateless and thread-safe.
 */
public final class Sentences {
  private static final Set<String> ABBREVIATIONS =
      Set.of(
          "mr.", "mrs.", "ms.", "dr.", "prof.", "sr.", "jr.", "st.", "vs.", "etc.", "e.g.", "i.e.",
          "no.", "fig.", "approx.", "u.s.", "inc.", "ltd.", "co.", "mt.");

  private Sentences() {}

  /** One sentence of an output; {@code index} counts every sentence, skipped ones included. */
  public record Sentence(int index, String text, boolean skipped) implements java.io.Serializable {}

  /** The sentences of {@code output}, stripped, none empty. */
  public static List<String> split(String output) {
    List<String> out = new ArrayList<>();
    int start = 0;
    int n = output.length();
    for (int i = 0; i < n; i++) {
      char c = output.charAt(i);
      if (c == '\n') {
        add(out, output.substring(start, i));
        start = i + 1;
      } else if (c == '.' || c == '!' || c == '?') {
        int end = i + 1;
        while (end < n && "\"')]’”".indexOf(output.charAt(end)) >= 0) {
          end++;
        }
        if (end < n
            && Character.isWhitespace(output.charAt(end))
            && !abbreviation(output, i)
            && !lowercaseFollows(output, end)) {
          add(out, output.substring(start, end));
          start = end;
          i = end - 1;
        }
      }
    }
    add(out, output.substring(Math.min(start, n)));
    return out;
  }

  /** {@link #split} with create_retrieval_data.py's skip rule applied. */
  public static List<Sentence> segment(String output) {
    List<String> texts = split(output);
    List<Sentence> out = new ArrayList<>(texts.size());
    for (int i = 0; i < texts.size(); i++) {
      String t = texts.get(i);
      out.add(new Sentence(i, t, texts.size() > 2 && t.length() < 30));
    }
    return out;
  }

  /** The sentences before {@code index}, joined by a space, or null when there are none. */
  public static String preceding(List<Sentence> sentences, int index) {
    if (index == 0) {
      return null;
    }
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < index; i++) {
      if (i > 0) {
        b.append(' ');
      }
      b.append(sentences.get(i).text());
    }
    return b.toString();
  }

  private static boolean abbreviation(String s, int dot) {
    if (s.charAt(dot) != '.') {
      return false;
    }
    int w = dot;
    while (w > 0 && !Character.isWhitespace(s.charAt(w - 1))) {
      w--;
    }
    String word = s.substring(w, dot + 1).toLowerCase(java.util.Locale.ROOT);
    return ABBREVIATIONS.contains(word)
        || (word.length() == 2 && Character.isUpperCase(s.charAt(w)));
  }

  /** "5 p.m. today": a lowercase word after the mark continues the sentence. */
  private static boolean lowercaseFollows(String s, int from) {
    int i = from;
    while (i < s.length() && s.charAt(i) == ' ') {
      i++;
    }
    return i < s.length() && Character.isLowerCase(s.charAt(i));
  }

  private static void add(List<String> out, String s) {
    String t = s.strip();
    if (!t.isEmpty()) {
      out.add(t);
    }
  }
}
