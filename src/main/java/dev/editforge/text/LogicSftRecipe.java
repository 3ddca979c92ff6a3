package dev.editforge.text;

import java.text.Normalizer;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Seed 004's logic-reasoning recipe as written (TRL SFT on teacher-explained logic problems, then
 * majority-vote answering). Its strings are protocol constants: a model tuned on this recipe's
 * training text expects exactly its inference prompt, so every string here is byte for byte the
 * seed's, ASCII punctuation included ({@code ,} {@code :} {@code (} where the original competition
 * text was probably full-width). Parsing accepts both forms. Pure; thread-safe.
 *
 * <ul>
 *   <li>teacher: a system message ({@link #TEACHER_SYSTEM}) and a user message (problem, question,
 *       options, the answer letter) asking for the explanation;
 *   <li>training text: {@code {head}\n### 题目\n…\n### 问题\n…\n{options}\n### 分析过程\n{reasoning}\n###
 *       答案\n答案是:X}, split into prompt (up to and including {@code ### 分析过程\n}) and completion, EOS
 *       appended by the trainer's tokenizer;
 *   <li>inference: {@link #INFERENCE_PROMPT}, the response cut at the first {@link #CUT_AT} string,
 *       the answer the first {@code 答案是:X}, a vote over samples where "no answer" votes too.
 * </ul>
 */
public final class LogicSftRecipe {
  /** The {@code generate.reasoning.recipe} value that selects this recipe. */
  public static final String NAME = "logic-sft";

  private static final String PREAMBLE =
      "你是一个逻辑推理专家,擅长解决逻辑推理问题。以下是一个逻辑推理的题目,形式为单项选择题。所有的问题都是(close-world assumption)闭世界假设,即未观测事实都为假。"
          + "每个问题都保证能通过一系列基于形式逻辑的推理(包括同一律,矛盾律,排中律的使用等)得到确定的答案。";

  private static final String ANSWER_FORMAT =
      "请逐步分析问题,写出思考过程,并在最后一行输出答案,最后一行的格式为\"答案是:A\"或\"答案是:B\"或\"答案是:C\"或\"答案是:D\"等等。";

  public static final String TEACHER_SYSTEM =
      PREAMBLE + "我会向你提供答案,而你要给出逐步的解析来交会我如何得到答案。我是一个小学生,所以每一步的推理不要太复杂。";

  public static final String TEACHER_USER_TEMPLATE =
      "### 题目\n{problem}\n### 问题\n{question}\n{options}\n### 答案\n{answer}";

  public static final String TRAIN_HEAD = PREAMBLE + ANSWER_FORMAT + "如果你做对了这个题目,你会获得的一亿奖金。题目如下:";

  public static final String TRAIN_PROMPT_TEMPLATE =
      "{head}\n### 题目\n{problem}\n### 问题\n{question}\n{options}\n### 分析过程\n";

  public static final String TRAIN_COMPLETION_TEMPLATE = "{reasoning}\n### 答案\n答案是:{answer}";

  public static final String INFERENCE_PROMPT =
      PREAMBLE
          + ANSWER_FORMAT
          + "题目如下:\n### 题目:\n{problem}\n### 问题:\n{question}\n{options}\n### 分析过程\n";

  /** Where a sampled response is cut: the model starting another problem or a separator. */
  public static final List<String> CUT_AT = List.of("---", "### 题目", "### 问题");

  /** Samples per question, answering attempts, and the answer when no attempt found one. */
  public static final int VOTER = 3;

  public static final int ATTEMPTS = 2;
  public static final String FALLBACK = "C";

  /**
   * The seed's {@code 答案是:[A-Z]}, matched after NFKC normalization so that the full-width {@code
   * 答案是：Ｂ} counts too.
   */
  private static final Pattern ANSWER = Pattern.compile("答案是:([A-Z])");

  private LogicSftRecipe() {}

  /** The seed's {@code format_options}: one {@code "A: option"} line per option, as given. */
  public static String formatOptions(List<String> options) {
    if (options.isEmpty() || options.size() > 26) {
      throw new IllegalArgumentException("a problem needs 1 to 26 options, got " + options.size());
    }
    StringBuilder b = new StringBuilder();
    for (int i = 0; i < options.size(); i++) {
      if (i > 0) {
        b.append('\n');
      }
      b.append((char) ('A' + i)).append(": ").append(options.get(i));
    }
    return b.toString();
  }

  /** The teacher's user message; {@code answer} is the gold option letter. */
  public static String teacherUser(
      String problem, String question, List<String> options, String answer) {
    return fill(TEACHER_USER_TEMPLATE, problem, question, options, answer, null);
  }

  /**
   * The generation prompt of a question: the teacher's user message when {@code gold} (an option
   * letter) is known, else the inference prompt.
   */
  public static String prompt(String problem, String question, List<String> options, String gold) {
    return gold != null
        ? teacherUser(problem, question, options, gold)
        : inferencePrompt(problem, question, options);
  }

  /** The training text's prompt part: head, problem, question, options, {@code ### 分析过程\n}. */
  public static String trainPrompt(String problem, String question, List<String> options) {
    return fill(TRAIN_PROMPT_TEMPLATE, problem, question, options, null, null);
  }

  /** The training text's completion part: the reasoning as written, then the answer line. */
  public static String trainCompletion(String reasoning, String answer) {
    return TRAIN_COMPLETION_TEMPLATE.replace("{answer}", answer).replace("{reasoning}", reasoning);
  }

  /** The whole training text before EOS: {@code trainPrompt + trainCompletion}. */
  public static String trainText(
      String problem, String question, List<String> options, String reasoning, String answer) {
    return trainPrompt(problem, question, options) + trainCompletion(reasoning, answer);
  }

  /** The student's prompt at inference. */
  public static String inferencePrompt(String problem, String question, List<String> options) {
    return fill(INFERENCE_PROMPT, problem, question, options, null, null);
  }

  /** {@code response} up to the first of {@code cutAt} (the seed splits on each in turn). */
  public static String cut(String response, List<String> cutAt) {
    String out = response;
    for (String s : cutAt) {
      if (!s.isEmpty()) {
        int i = out.indexOf(s);
        if (i >= 0) {
          out = out.substring(0, i);
        }
      }
    }
    return out;
  }

  /** The first {@code 答案是:X} letter of {@code response} (ASCII or full-width), or null. */
  public static String extract(String response) {
    if (response == null) {
      return null;
    }
    Matcher m = ANSWER.matcher(Normalizer.normalize(response, Normalizer.Form.NFKC));
    return m.find() ? m.group(1) : null;
  }

  /**
   * The seed's vote: a counter over the extracted answers in which "no answer" (null) counts as a
   * key too; the key with the highest count wins, the first seen on a tie (Python's {@code max}
   * over a dict in insertion order). Null when "no answer" wins or there is nothing to vote on.
   */
  public static String vote(List<String> answers) {
    Map<String, Integer> counts = new LinkedHashMap<>();
    for (String a : answers) {
      counts.merge(a == null ? "" : a, 1, Integer::sum);
    }
    String best = null;
    int bestCount = 0;
    for (Map.Entry<String, Integer> e : counts.entrySet()) {
      if (e.getValue() > bestCount) {
        best = e.getKey();
        bestCount = e.getValue();
      }
    }
    return best == null || best.isEmpty() ? null : best;
  }

  /** The extracted answer of each response after cutting. */
  public static List<String> answers(List<String> responses, List<String> cutAt) {
    List<String> out = new ArrayList<>(responses.size());
    for (String r : responses) {
      out.add(r == null ? null : extract(cut(r, cutAt)));
    }
    return out;
  }

  // Fields are replaced in one pass so that a "{question}" inside a problem's own text stays.
  private static String fill(
      String template,
      String problem,
      String question,
      List<String> options,
      String answer,
      String reasoning) {
    Map<String, String> values = new LinkedHashMap<>();
    values.put("head", TRAIN_HEAD);
    values.put("problem", problem);
    values.put("question", question);
    values.put("options", formatOptions(options));
    values.put("answer", answer);
    values.put("reasoning", reasoning);
    StringBuilder out = new StringBuilder();
    int i = 0;
    while (i < template.length()) {
      int open = template.indexOf('{', i);
      if (open < 0) {
        out.append(template, i, template.length());
        break;
      }
      int close = template.indexOf('}', open);
      String key = close < 0 ? null : template.substring(open + 1, close);
      if (key != null && values.get(key) != null) {
        out.append(template, i, open).append(values.get(key));
        i = close + 1;
      } else {
        out.append(template, i, open + 1);
        i = open + 1;
      }
    }
    return out.toString();
  }
}
