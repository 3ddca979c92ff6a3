package dev.editforge.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.editforge.SharedData;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

class TrainSequencesTest {

  // Expected values are what SEAL's own build_train_sequences (Python) returns for title "T" and
  // context " ctx\u00a0 " (Python strips the NBSP too).
  static Stream<Arguments> cases() {
    return Stream.of(
        tc(
            "only dashes: the whole stripped completion is the one part",
            "---",
            true,
            List.of("T\n---", "T\nctx")),
        tc("only dashes, split-newlines off", "---", false, List.of("T\n---", "T\nctx")),
        tc(
            "empty completion with split-newlines: no line, only the passage",
            "",
            true,
            List.of("T\nctx")),
        tc(
            "empty completion without split-newlines: one empty text",
            "",
            false,
            List.of("T\n", "T\nctx")),
        tc("blank completion", "  \n ", true, List.of("T\nctx")),
        tc(
            "--- splits, strips and drops empty parts",
            "a --- b ---  --- c",
            false,
            List.of("T\na", "T\nb", "T\nc", "T\nctx")),
        tc(
            "lines of every --- part",
            "a\nb --- c\n\nd",
            true,
            List.of("T\na", "T\nb", "T\nc", "T\nd", "T\nctx")),
        tc(
            "Python line breaks and whitespace: CRLF, U+2028, NBSP",
            "x\r\ny\u2028z\u00a0\n\u00a0w",
            true,
            List.of("T\nx", "T\ny", "T\nz", "T\nw", "T\nctx")),
        tc(
            "preamble dropped when the second line starts with 1.",
            "Here are some:\n1. a\n2. b",
            true,
            List.of("T\n1. a", "T\n2. b", "T\nctx")),
        tc(
            "no preamble: nothing dropped",
            "1. a\n2. b",
            true,
            List.of("T\n1. a", "T\n2. b", "T\nctx")),
        tc(
            "blank lines do not count: the second non-blank line decides",
            "Intro\n\n1. a",
            true,
            List.of("T\n1. a", "T\nctx")),
        tc(
            "second line 2.: nothing dropped",
            "Intro\n2. a\n1. b",
            true,
            List.of("T\nIntro", "T\n2. a", "T\n1. b", "T\nctx")),
        tc(
            "self-QA: Question 1 prefixed to the first part",
            "Who?\nAnswer: X\nQuestion 2: Why?\nAnswer: Y",
            true,
            List.of("T\nQuestion 1: Who?\nAnswer: X", "T\nQuestion 2: Why?\nAnswer: Y", "T\nctx")),
        tc(
            "self-QA parts are not stripped",
            "Question 1: a\nAnswer: b\n\nQuestion 2: c\nAnswer: d\n",
            true,
            List.of("T\nQuestion 1: a\nAnswer: b\n", "T\nQuestion 2: c\nAnswer: d", "T\nctx")),
        tc(
            "self-QA ignores ---",
            "Question 1: a\nAnswer: b\n---\nQuestion 2: c\nAnswer: d",
            true,
            List.of("T\nQuestion 1: a\nAnswer: b\n---", "T\nQuestion 2: c\nAnswer: d", "T\nctx")),
        tc(
            "split-newlines off: --- still splits self-QA text",
            "Question 1: a\nAnswer: b\n---\nQuestion 2: c\nAnswer: d",
            false,
            List.of("T\nQuestion 1: a\nAnswer: b", "T\nQuestion 2: c\nAnswer: d", "T\nctx")),
        tc(
            "Python \\\\s: NBSP between Question and number; Answer with space before colon",
            "Question\u00a012: a\nAnswer : b\nQuestion 13: c",
            true,
            List.of("T\nQuestion\u00a012: a\nAnswer : b", "T\nQuestion 13: c", "T\nctx")),
        tc(
            "Question N : is not self-QA",
            "Question 2 : a\nAnswer: b\nQuestion 3 : c",
            true,
            List.of("T\nQuestion 2 : a", "T\nAnswer: b", "T\nQuestion 3 : c", "T\nctx")),
        tc(
            "questions without Answer: are plain lines",
            "Question 1: only a question\nQuestion 2: another",
            true,
            List.of("T\nQuestion 1: only a question", "T\nQuestion 2: another", "T\nctx")));
  }

  static Arguments tc(
      String name, String completion, boolean splitNewlines, List<String> expected) {
    return Arguments.of(name, completion, splitNewlines, expected);
  }

  @ParameterizedTest(name = "{0}")
  @MethodSource("cases")
  void matchesSealsBuildTrainSequences(
      String name, String completion, boolean splitNewlines, List<String> expected) {
    assertEquals(
        expected, TrainSequences.build(completion, "T", " ctx\u00a0 ", splitNewlines), name);
  }

  @Test
  void answerPromptPutsTopicInsideTheQuestion() {
    assertEquals(
        "Let's answer a question directly and concisely.\nQuestion: Topic: Genghis Khan\nWhat metal?\nAnswer:\n",
        AnswerPrompt.render("Genghis Khan", "What metal?"));
    assertEquals("Topic: A\nB", AnswerPrompt.questionField("A", "B"));
  }

  @Test
  void constantsEqualSealPromptsJson() throws Exception {
    JsonNode ref = SharedData.json("reference/seal_prompts.json");
    assertEquals(ref.get("answer_template").asText(), AnswerPrompt.TEMPLATE);
    assertEquals(ref.get("answer_question_field").asText(), AnswerPrompt.QUESTION_FIELD);
    assertEquals(ref.get("training_sequence_template").asText(), TrainSequences.SEQUENCE_TEMPLATE);
    String rendered =
        PyText.format(
            ref.get("answer_template").asText(),
            java.util.Map.of(
                "question",
                PyText.format(
                    ref.get("answer_question_field").asText(),
                    java.util.Map.of("title", "X", "question", "Y?"))));
    assertEquals(rendered, AnswerPrompt.render("X", "Y?"));
  }

  /**
   * Every completion SEAL wrote: the count follows the plain-lines rule (none of these files has
   * self-QA text), every sequence starts with the title, the passage comes last, and the totals
   * equal what SEAL's Python code gives (8418, 8993 and 15023 sequences).
   */
  @Test
  void sequenceCountsOverSealCompletions() throws Exception {
    int[] expectedTotals = {8418, 8993, 15023};
    String[] files = {
      "data/seal/base_val.json", "data/seal/iter0_train.json", "data/seal/gpt4_1_val.json"
    };
    int dropped = 0;
    for (int f = 0; f < files.length; f++) {
      int total = 0;
      for (JsonNode a : SharedData.json(files[f])) {
        String title = a.get("title").asText();
        String context = a.get("context").asText();
        for (JsonNode c : a.get("completions")) {
          String text = c.asText();
          List<String> seqs = TrainSequences.build(text, title, context, true);
          // Independent count: non-blank lines across the --- parts, minus a preamble line.
          List<String> lines = new ArrayList<>();
          for (String part : text.split("---")) {
            for (String line : part.split("\\R")) {
              if (!line.isBlank()) {
                lines.add(line.trim());
              }
            }
          }
          boolean dropFirst = lines.size() > 1 && lines.get(1).startsWith("1.");
          dropped += dropFirst ? 1 : 0;
          assertEquals(
              lines.size() - (dropFirst ? 1 : 0) + 1, seqs.size(), files[f] + " / " + title);
          for (String s : seqs) {
            assertTrue(s.startsWith(title + "\n"));
          }
          assertEquals(title + "\n" + context.strip(), seqs.get(seqs.size() - 1));
          total += seqs.size();
        }
      }
      assertEquals(expectedTotals[f], total, files[f]);
    }
    assertEquals(790, dropped, "GPT-4.1 completions that open with a preamble line");
  }
}
