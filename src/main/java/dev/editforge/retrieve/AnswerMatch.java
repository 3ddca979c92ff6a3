package dev.editforge.retrieve;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * DPR's {@code has_answer} (string mode), the check behind every published "top-k accuracy" of DPR,
 * contriever and Self-RAG: Unicode NFD normalization, DPR's SimpleTokenizer (runs of
 * letters/digits/marks, or any other single non-space, non-control character), lower-casing, and a
 * contiguous token match of any answer inside the passage. Matching tokens rather than substrings
 * is why "1" does not match inside "1998".
 *
 * <p>One deliberate difference: an answer with no tokens (empty or whitespace) matches nothing,
 * where DPR would match it everywhere. Stateless and thread-safe.
 */
public final class AnswerMatch {
  private static final Pattern TOKEN = Pattern.compile("[\\p{L}\\p{N}\\p{M}]+|[^\\p{Z}\\p{C}]");

  private AnswerMatch() {}

  /** DPR's tokens of a text: NFD-normalized, lower-cased. */
  public static List<String> tokens(String text) {
    String norm = Normalizer.normalize(text, Normalizer.Form.NFD);
    List<String> out = new ArrayList<>();
    Matcher m = TOKEN.matcher(norm);
    while (m.find()) {
      out.add(m.group().toLowerCase(Locale.ROOT));
    }
    return out;
  }

  /** Whether any of {@code answers} occurs in {@code text} as a contiguous token sequence. */
  public static boolean hasAnswer(List<String> answers, String text) {
    if (answers == null || answers.isEmpty() || text == null) {
      return false;
    }
    List<String> t = tokens(text);
    for (String a : answers) {
      if (a == null) {
        continue;
      }
      List<String> at = tokens(a);
      if (!at.isEmpty() && containsRun(t, at)) {
        return true;
      }
    }
    return false;
  }

  private static boolean containsRun(List<String> text, List<String> answer) {
    int n = answer.size();
    outer:
    for (int i = 0; i + n <= text.size(); i++) {
      for (int j = 0; j < n; j++) {
        if (!text.get(i + j).equals(answer.get(j))) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }
}
