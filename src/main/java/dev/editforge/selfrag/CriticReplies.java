package dev.editforge.selfrag;

import java.util.List;

/**
 * Turns a judge's reply into a label exactly as Self-RAG's scripts do: the chatgpt_*.py scripts
 * store the text before {@code "\nExplanation:"} (retrieval) or the largest digit 1-5 in it
 * (relevance, support, utility), and combine_chat_gpt_reward.py turns those into reflection tokens
 * (retrieval: "Yes"/"No"; multi-retrieval: the decision must be a retrieval token; relevance and
 * support: the reply's first line, one trailing space cut, must be a token; utility: the score). A
 * reply that yields no label gets the reason instead. Stateless and thread-safe.
 */
public final class CriticReplies {
  private static final String EXPLANATION = "\nExplanation:";

  private CriticReplies() {}

  /**
   * What one reply gave: {@code parsed} is what the chatgpt_*.py script stored (decision_token or
   * score, "" when there is no {@code "\nExplanation:"}); exactly one of {@code label} and {@code
   * error} is set.
   */
  public record Parsed(String parsed, String label, String error) {
    public boolean ok() {
      return error == null;
    }
  }

  /** chatgpt_need_retrieval.py: the text before "\nExplanation:", or "" when there is none. */
  public static String decisionToken(String raw) {
    int i = raw.indexOf(EXPLANATION);
    return i < 0 ? "" : raw.substring(0, i);
  }

  /**
   * chatgpt_relevance/groundness/utility.py: the largest digit 1-5 before "\nExplanation:", as a
   * string, or "" when there is none (or no "\nExplanation:").
   */
  public static String score(String raw) {
    String head = decisionToken(raw);
    char best = 0;
    for (int i = 0; i < head.length(); i++) {
      char c = head.charAt(i);
      if (c >= '1' && c <= '5' && c > best) {
        best = c;
      }
    }
    return best == 0 ? "" : String.valueOf(best);
  }

  /** The reply's first line with one trailing space cut (combine's relevance/support rule). */
  public static String firstLine(String raw) {
    int nl = raw.indexOf('\n');
    String line = nl < 0 ? raw : raw.substring(0, nl);
    return line.endsWith(" ") ? line.substring(0, line.length() - 1) : line;
  }

  public static Parsed parse(CriticType type, String raw) {
    return switch (type) {
      case RETRIEVAL -> {
        String d = decisionToken(raw);
        if (d.contains("Yes")) {
          yield new Parsed(d, ReflectionTokens.RETRIEVAL, null);
        }
        if (d.contains("No")) {
          yield new Parsed(d, ReflectionTokens.NO_RETRIEVAL, null);
        }
        yield fail(d, raw, "no Yes or No before \"\\nExplanation:\"");
      }
      case MULTI_RETRIEVAL -> {
        String d = decisionToken(raw);
        yield ReflectionTokens.RETRIEVAL_GROUP.contains(d)
            ? new Parsed(d, d, null)
            : fail(d, raw, "the text before \"\\nExplanation:\" is not a retrieval token");
      }
      case RELEVANCE -> token(raw, ReflectionTokens.RELEVANCE_GROUP, "a relevance token");
      case SUPPORT -> token(raw, ReflectionTokens.SUPPORT_GROUP, "a support token");
      case UTILITY -> {
        String s = score(raw);
        yield s.isEmpty()
            ? fail(s, raw, "no score 1-5 before \"\\nExplanation:\"")
            : new Parsed(s, ReflectionTokens.utility(Integer.parseInt(s)), null);
      }
    };
  }

  private static Parsed token(String raw, List<String> group, String what) {
    String line = firstLine(raw);
    return group.contains(line)
        ? new Parsed(score(raw), line, null)
        : fail(score(raw), raw, "the first line is not " + what);
  }

  private static Parsed fail(String parsed, String raw, String why) {
    String shown = raw.length() > 80 ? raw.substring(0, 80) + "..." : raw;
    return new Parsed(parsed, null, "unparseable reply: " + why + ": " + quote(shown));
  }

  private static String quote(String s) {
    return "\"" + s.replace("\\", "\\\\").replace("\n", "\\n").replace("\"", "\\\"") + "\"";
  }

  // postprocess_data.py's converters, for predictions of a trained critic (and, harmlessly, for
  // labels that are already tokens).

  /** The lowest digit 1-5 present as {@code [Utility:k]}, or null (postprocess_data.py:66-85). */
  public static String utilityOf(String pred) {
    if (pred == null) {
      return null;
    }
    for (int k = 1; k <= 5; k++) {
      if (pred.contains(String.valueOf(k))) {
        return ReflectionTokens.utility(k);
      }
    }
    return null;
  }

  /**
   * A retrieval prediction as a token: a missing "[" added, Yes/No mapped, anything else {@code [No
   * Retrieval]}; null stays null (a missing prediction).
   */
  public static String retrievalOf(String pred) {
    if (pred == null) {
      return null;
    }
    String p = pred.strip();
    if (!p.startsWith("[") && p.endsWith("]")) {
      p = "[" + p;
    }
    if (ReflectionTokens.RETRIEVAL_GROUP.contains(p)) {
      return p;
    }
    if (p.contains("Yes")) {
      return ReflectionTokens.RETRIEVAL;
    }
    return ReflectionTokens.NO_RETRIEVAL;
  }

  /** A support prediction as a token: the 1-5 scale's "4"/"5" mean fully supported. */
  public static String supportOf(String pred) {
    if (pred == null) {
      return null;
    }
    if (ReflectionTokens.SUPPORT_GROUP.contains(pred)) {
      return pred;
    }
    if (pred.contains("5") || pred.contains("4")) {
      return ReflectionTokens.FULLY_SUPPORTED;
    }
    return pred;
  }
}
