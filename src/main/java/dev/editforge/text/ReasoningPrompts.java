package dev.editforge.text;

import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Prompts for reasoning traces on multiple-choice logic problems. A teacher prompt gives the model
 * the problem, the question, the lettered options and the correct answer and asks for a
 * step-by-step explanation a student can follow, ending with the answer line; a student prompt is
 * the same problem without the answer — the prompt of the SFT row whose completion is the trace.
 *
 * <p>Built-ins: {@code explain-en}, {@code explain-zh} (teacher) and {@code solve-en}, {@code
 * solve-zh} (student). User templates use the fields {@code {problem}}, {@code {question}}, {@code
 * {options}} (one {@code "A: ..."} line per option) and, in teacher templates only, {@code
 * {answer}} ({@code "B: <option text>"}); {@code {{}/{@code }}} are literal braces.
 */
public final class ReasoningPrompts {
  public static final String EXPLAIN_EN =
      "You are a patient teacher. Below are a logic problem, a question about it, the answer options and the correct answer.\n"
          + "Explain step by step why the correct answer is right, simply enough for a student to follow: restate what the "
          + "problem tells us, reason from it one step at a time, and say briefly why each other option is wrong.\n\n"
          + "Problem:\n{problem}\n\n"
          + "Question:\n{question}\n\n"
          + "Options:\n{options}\n\n"
          + "Correct answer: {answer}\n\n"
          + "End with a last line of the form \"Answer: X\", where X is the letter of the correct option.\n";

  public static final String EXPLAIN_ZH =
      "你是一位耐心的老师。下面给出一道逻辑题、题目的问题、各个选项以及正确答案。\n"
          + "请一步一步地解释为什么正确答案是对的，讲得足够简单，让学生能够看懂：先复述题目给出的条件，再逐步推理，并简要说明其他选项为什么不对。\n\n"
          + "题目：\n{problem}\n\n"
          + "问题：\n{question}\n\n"
          + "选项：\n{options}\n\n"
          + "正确答案：{answer}\n\n"
          + "最后一行请写成“答案是：X”的形式，其中 X 是正确选项的字母。\n";

  public static final String SOLVE_EN =
      "Solve the following logic problem. Reason step by step, then give the letter of the correct option "
          + "on the last line as \"Answer: X\".\n\n"
          + "Problem:\n{problem}\n\n"
          + "Question:\n{question}\n\n"
          + "Options:\n{options}\n";

  public static final String SOLVE_ZH =
      "请解答下面的逻辑题。先一步一步地推理，最后一行以“答案是：X”的形式给出正确选项的字母。\n\n"
          + "题目：\n{problem}\n\n"
          + "问题：\n{question}\n\n"
          + "选项：\n{options}\n";

  public static final Map<String, String> BUILT_IN;

  static {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("explain-en", EXPLAIN_EN);
    m.put("explain-zh", EXPLAIN_ZH);
    m.put("solve-en", SOLVE_EN);
    m.put("solve-zh", SOLVE_ZH);
    BUILT_IN = Collections.unmodifiableMap(m);
  }

  /**
   * An option text that starts with a letter label ("A. ", "(A) ", "A: "), to avoid "A: A. ...".
   */
  private static final Pattern OWN_LETTER = Pattern.compile("^\\s*[(（]?([A-Z])[)）.:：、]\\s*");

  private final Map<String, String> templates;

  public ReasoningPrompts(Map<String, String> userTemplates) {
    Map<String, String> all = new LinkedHashMap<>(BUILT_IN);
    for (Map.Entry<String, String> e : userTemplates.entrySet()) {
      if (BUILT_IN.containsKey(e.getKey())) {
        throw new IllegalArgumentException(
            "reasoning template \""
                + e.getKey()
                + "\" is built in; give your template another name");
      }
      try {
        PyText.format(e.getValue(), fields("", "", "", ""));
      } catch (IllegalArgumentException bad) {
        throw new IllegalArgumentException(
            "reasoning template \"" + e.getKey() + "\": " + bad.getMessage(), bad);
      }
      all.put(e.getKey(), e.getValue());
    }
    this.templates = Collections.unmodifiableMap(all);
  }

  public static ReasoningPrompts builtIn() {
    return new ReasoningPrompts(Map.of());
  }

  public Set<String> keys() {
    return templates.keySet();
  }

  public String template(String key) {
    return NamedTemplates.lookup(templates, "reasoning", key);
  }

  /** True when the template shows the answer (a teacher prompt). */
  public boolean usesAnswer(String key) {
    return template(key).replace("{{", "").contains("{answer}");
  }

  /** The teacher prompt: {@code answerLetter} must name one of the options. */
  public String teacher(
      String key, String problem, String question, List<String> options, String answerLetter) {
    int index = letterIndex(answerLetter, options.size());
    String answer = letter(index) + ": " + optionText(options.get(index), index);
    return PyText.format(template(key), fields(problem, question, formatOptions(options), answer));
  }

  /** The student prompt; a template that shows {@code {answer}} is refused here. */
  public String student(String key, String problem, String question, List<String> options) {
    if (usesAnswer(key)) {
      throw new IllegalArgumentException(
          "reasoning prompt \"" + key + "\" shows the answer and cannot be a student prompt");
    }
    return PyText.format(template(key), fields(problem, question, formatOptions(options), ""));
  }

  /** One {@code "A: text"} line per option. */
  public static String formatOptions(List<String> options) {
    if (options.isEmpty() || options.size() > 26) {
      throw new IllegalArgumentException("a problem needs 1 to 26 options, got " + options.size());
    }
    List<String> lines = new ArrayList<>();
    for (int i = 0; i < options.size(); i++) {
      lines.add(letter(i) + ": " + optionText(options.get(i), i));
    }
    return String.join("\n", lines);
  }

  public static String letter(int index) {
    return String.valueOf((char) ('A' + index));
  }

  static int letterIndex(String letter, int optionCount) {
    if (letter == null
        || letter.length() != 1
        || letter.charAt(0) < 'A'
        || letter.charAt(0) >= 'A' + optionCount) {
      throw new IllegalArgumentException(
          "answer \""
              + letter
              + "\" is not one of the option letters A.."
              + letter(optionCount - 1));
    }
    return letter.charAt(0) - 'A';
  }

  private static String optionText(String option, int index) {
    String s = option.strip();
    Matcher m = OWN_LETTER.matcher(s);
    // Only the option's own letter: "I. Kant ..." as option C keeps its "I.".
    return m.find() && m.group(1).equals(letter(index)) ? s.substring(m.end()) : s;
  }

  private static Map<String, String> fields(
      String problem, String question, String options, String answer) {
    Map<String, String> m = new LinkedHashMap<>();
    m.put("problem", problem);
    m.put("question", question);
    m.put("options", options);
    m.put("answer", answer);
    return m;
  }
}
