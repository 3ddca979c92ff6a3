package dev.editforge.selfrag;

import java.util.List;

/**
 * Self-RAG's inference prompt format (retrieval_lm/utils.py PROMPT_DICT, run_short_form.py) and its
 * answer post-processing. The strings are protocol constants: a model trained on Self-RAG data
 * expects exactly these. Stateless and thread-safe.
 */
public final class SelfRagPrompt {
  /** utils.py {@code prompt_no_input}. */
  public static final String PROMPT_NO_INPUT = "### Instruction:\n{instruction}\n\n### Response:\n";

  private SelfRagPrompt() {}

  /** The prompt of one instruction (for PopQA and TriviaQA: the question itself). */
  public static String prompt(String instruction) {
    return PROMPT_NO_INPUT.replace("{instruction}", instruction);
  }

  /** The evidence continuation of a prompt (run_short_form.py): one passage in markup. */
  public static String withPassage(String prompt, String title, String text) {
    return prompt
        + ReflectionTokens.RETRIEVAL
        + ReflectionTokens.PARAGRAPH_OPEN
        + (title == null ? "" : title)
        + "\n"
        + (text == null ? "" : text)
        + ReflectionTokens.PARAGRAPH_CLOSE;
  }

  /** The no-evidence continuation (run_short_form.py:170-175). */
  public static String noRetrieval(String prompt) {
    return prompt + ReflectionTokens.NO_RETRIEVAL;
  }

  /**
   * Self-RAG's answer clean-up (run_short_form.py:36-48 and 331-349): drop every reflection token
   * (all 15; utils.py's list misses {@code [Continue to Use Evidence]}), {@code </s>}, {@code
   * <|endoftext|>} and newlines, then one leading '#' or ':'; map SUPPORTS/REFUTES to true/false.
   */
  public static String postprocess(String pred) {
    String s = pred == null ? "" : pred;
    for (String t : ReflectionTokens.ALL) {
      s = s.replace(t, "");
    }
    for (String t : List.of("</s>", "<|endoftext|>", "\n")) {
      s = s.replace(t, "");
    }
    s = s.strip();
    if (!s.isEmpty() && (s.charAt(0) == '#' || s.charAt(0) == ':')) {
      s = s.substring(1).strip();
    }
    if (s.equals("SUPPORTS")) {
      return "true";
    }
    if (s.equals("REFUTES")) {
      return "false";
    }
    return s;
  }

  /**
   * Self-RAG's {@code match} metric (retrieval_lm/metrics.py:83-87): 1 iff a gold answer is a
   * case-sensitive substring of the prediction.
   */
  public static boolean match(String pred, List<String> answers) {
    if (pred == null || answers == null) {
      return false;
    }
    for (String a : answers) {
      if (a != null && !a.isEmpty() && pred.contains(a)) {
        return true;
      }
    }
    return false;
  }
}
