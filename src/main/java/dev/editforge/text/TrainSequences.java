package dev.editforge.text;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.regex.Pattern;

/**
 * The sequences a self-edit's inner LoRA trains on, built exactly as SEAL's {@code
 * build_train_sequences} (knowledge-incorporation {@code utils.py}) builds them:
 *
 * <ol>
 *   <li>split the completion on every {@code ---}, strip each part, drop empty parts; with no part
 *       left, the whole stripped completion is the one part;
 *   <li>with split-newlines on: if the raw completion contains both {@code Question N:} and {@code
 *       Answer:} (self-QA output), the stripped completion is instead split before every {@code
 *       \nQuestion N:} — parts are not stripped, and a first part that does not start with
 *       "Question" gets {@code "Question 1: "} prefixed (the self-QA prompt ends with it, so the
 *       model's text starts after it); otherwise every non-blank stripped line of every part is a
 *       sequence, and the first line is dropped when the second starts with {@code 1.} (a preamble
 *       such as "Here are the implications:");
 *   <li>each sequence is {@code "{title}\n{text}"}, and the passage itself, {@code
 *       "{title}\n{context stripped}"}, is always appended last.
 * </ol>
 *
 * Whitespace, line breaks and {@code \s}/{@code \d} follow Python's definitions ({@link PyText}) so
 * the bytes match SEAL's for any input.
 */
public final class TrainSequences {
  /** SEAL's {@code TRAINING_SEQUENCE_TEMPLATE}, {@code "{title}\n{completion_text}"}. */
  public static final String SEQUENCE_TEMPLATE = "{title}\n{completion_text}";

  private static final String WS = "[" + PyText.WHITESPACE_CLASS + "]";
  private static final Pattern QUESTION_N = Pattern.compile("Question" + WS + "+\\p{Nd}+:");
  private static final Pattern ANSWER = Pattern.compile("Answer" + WS + "*:");
  private static final Pattern BEFORE_QUESTION_N =
      Pattern.compile("\n(?=Question" + WS + "+\\p{Nd}+:)");

  private TrainSequences() {}

  /** The train sequences of one self-edit of the article {@code title}/{@code context}. */
  /** SEAL's "train on passage" baseline: the passage alone. */
  public static List<String> passageOnly(String title, String context) {
    return List.of(sequence(title, PyText.strip(context)));
  }

  public static List<String> build(
      String completion, String title, String context, boolean splitNewlines) {
    List<String> out = new ArrayList<>();
    for (String text : segments(completion, splitNewlines)) {
      out.add(sequence(title, text));
    }
    out.add(sequence(title, PyText.strip(context)));
    return out;
  }

  /** The completion's texts before the title is prefixed (the passage not included). */
  public static List<String> segments(String completion, boolean splitNewlines) {
    List<String> segs = new ArrayList<>();
    for (String part : completion.split("---", -1)) {
      String s = PyText.strip(part);
      if (!s.isEmpty()) {
        segs.add(s);
      }
    }
    if (segs.isEmpty()) {
      segs.add(PyText.strip(completion));
    }
    if (!splitNewlines) {
      return segs;
    }
    if (QUESTION_N.matcher(completion).find() && ANSWER.matcher(completion).find()) {
      List<String> qa =
          new ArrayList<>(Arrays.asList(BEFORE_QUESTION_N.split(PyText.strip(completion), -1)));
      if (!PyText.lstrip(qa.get(0)).startsWith("Question")) {
        qa.set(0, "Question 1: " + PyText.strip(qa.get(0)));
      }
      return qa;
    }
    List<String> lines = new ArrayList<>();
    for (String seg : segs) {
      for (String line : PyText.splitLines(seg)) {
        String s = PyText.strip(line);
        if (!s.isEmpty()) {
          lines.add(s);
        }
      }
    }
    if (lines.size() > 1 && lines.get(1).startsWith("1.")) {
      return new ArrayList<>(lines.subList(1, lines.size()));
    }
    return lines;
  }

  /** {@code "{title}\n{text}"}. */
  public static String sequence(String title, String text) {
    return title + "\n" + text;
  }
}
