package dev.editforge.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.editforge.config.ConfigReader;
import dev.editforge.config.ReasoningSettings;
import dev.editforge.config.SettingsException;
import dev.editforge.text.AnswerVoting;
import dev.editforge.text.ReasoningPrompts;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class ReasoningTest {
  static final List<String> OPTIONS =
      List.of("All cats sleep.", "B. Some cats sleep.", "No cat sleeps.", "I. Kant is right.");

  @Test
  void teacherPromptShowsLetteredOptionsAndTheAnswer() {
    ReasoningPrompts p = ReasoningPrompts.builtIn();
    String t = p.teacher("explain-en", "Every cat sleeps.", "Which must be true?", OPTIONS, "B");
    assertTrue(
        t.contains(
            "Options:\nA: All cats sleep.\nB: Some cats sleep.\nC: No cat sleeps.\nD: I. Kant is right.\n"),
        t);
    assertTrue(t.contains("Correct answer: B: Some cats sleep.\n"), t);
    assertTrue(t.contains("step by step"), t);
    assertTrue(t.endsWith("\"Answer: X\", where X is the letter of the correct option.\n"), t);
    String zh = p.teacher("explain-zh", "每只猫都睡觉。", "哪一项一定为真？", OPTIONS, "A");
    assertTrue(zh.contains("正确答案：A: All cats sleep."), zh);
    assertTrue(zh.contains("答案是：X"), zh);
    assertThrows(
        IllegalArgumentException.class, () -> p.teacher("explain-en", "p", "q", OPTIONS, "E"));
  }

  @Test
  void studentPromptHidesTheAnswerAndUserTemplatesWork() {
    ReasoningPrompts p =
        new ReasoningPrompts(
            Map.of(
                "mine",
                "{problem} | {question} | {options} | {answer}",
                "ask",
                "Q: {question}\n{options}"));
    assertEquals("p | q | A: x\nB: y | B: y", p.teacher("mine", "p", "q", List.of("x", "y"), "B"));
    assertEquals("Q: q\nA: x\nB: y", p.student("ask", "p", "q", List.of("x", "y")));
    String s = p.student("solve-en", "Every cat sleeps.", "Which must be true?", OPTIONS);
    assertFalse(s.contains("Correct answer"), s);
    assertThrows(IllegalArgumentException.class, () -> p.student("explain-en", "p", "q", OPTIONS));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> p.template("nope"));
    assertTrue(
        e.getMessage().contains("explain-en, explain-zh, solve-en, solve-zh"), e.getMessage());
    assertThrows(
        IllegalArgumentException.class, () -> new ReasoningPrompts(Map.of("bad", "{choices}")));
  }

  @Test
  void extractsTheLetterFromTheLastLine() {
    AnswerVoting v = AnswerVoting.defaults();
    assertEquals("B", v.extract("Step 1 ...\nAnswer: A is tempting but wrong.\n\nAnswer: B\n", 4));
    assertEquals("C", v.extract("...\n**Answer: C**", 4));
    assertEquals("C", v.extract("...\nThe answer is (C).", 4));
    assertEquals("D", v.extract("推理……\n答案是：D", 4));
    assertEquals("D", v.extract("推理……\n答案是:D", 4));
    assertEquals("A", v.extract("推理……\n答案为Ａ", 4)); // full-width letter
    assertEquals("B", v.extract("answer: B", 4));
    assertNull(v.extract("Answer: B\nSo that is settled.", 4), "only the last line counts");
    assertNull(v.extract("Answer: E", 4), "E is not an option");
    assertNull(v.extract("The answer is Bob.", 4));
    assertNull(v.extract("Answer: b", 4), "lower-case letters are words, not options");
    assertNull(v.extract("", 4));
    AnswerVoting anywhere = new AnswerVoting(List.of("Option ([A-Z]) is correct"), false);
    assertEquals("C", anywhere.extract("Option C is correct.\nThat is all.", 0));
    assertThrows(
        IllegalArgumentException.class, () -> new AnswerVoting(List.of("Answer: [A-Z]"), true));
    assertThrows(
        IllegalArgumentException.class, () -> new AnswerVoting(List.of("Answer: ([A-Z]"), true));
  }

  @Test
  void goldAnswersInTheirUsualShapes() {
    List<String> opts = List.of("red", "green", "blue");
    assertEquals("B", AnswerVoting.goldLetter("B", opts));
    assertEquals("B", AnswerVoting.goldLetter("(b)", opts));
    assertEquals("C", AnswerVoting.goldLetter("blue", opts));
    assertEquals("B", AnswerVoting.goldLetter("1", opts));
    assertNull(AnswerVoting.goldLetter("D", opts));
    assertNull(AnswerVoting.goldLetter(null, opts));
    assertTrue(AnswerVoting.agrees("B", "B"));
    assertFalse(AnswerVoting.agrees(null, "B"));
    assertFalse(AnswerVoting.agrees("A", null));
  }

  @Test
  void votingMajorityShareTiesAndNoAnswers() {
    AnswerVoting.Vote v = AnswerVoting.vote(Arrays.asList("B", "A", "B", null, "C"));
    assertEquals("B", v.answer());
    assertEquals(0.4, v.voteShare(), 1e-12); // 2 of 5 samples: no-answers count against the share
    assertEquals(4, v.answered());
    assertFalse(v.tie());
    AnswerVoting.Vote tie = AnswerVoting.vote(Arrays.asList(null, "C", "A", "A", "C"));
    assertEquals("C", tie.answer(), "tie: the letter voted for first wins");
    assertTrue(tie.tie());
    assertEquals(0.4, tie.voteShare(), 1e-12);
    AnswerVoting.Vote none = AnswerVoting.vote(Arrays.asList(null, null));
    assertNull(none.answer());
    assertEquals(0.0, none.voteShare());
    assertEquals(0, none.answered());
    assertNull(AnswerVoting.vote(List.of()).answer());
  }

  @Test
  void settingsRefuseAStudentPromptThatShowsTheAnswer() {
    String defaults =
        "teacher-prompt = explain-en, student-prompt = solve-en, templates {}, last-line-only = true, samples = 1, "
            + "answer-patterns = [\"(?i:answer)\\\\s*:\\\\s*([A-Z])\"]";
    ReasoningSettings ok =
        ReasoningSettings.from(
            new ConfigReader(ConfigFactory.parseString(defaults), "editforge.generate.reasoning"));
    assertEquals("A", ok.voting().extract("x\nAnswer: A", 2));
    SettingsException e =
        assertThrows(
            SettingsException.class,
            () ->
                ReasoningSettings.from(
                    new ConfigReader(
                        ConfigFactory.parseString("student-prompt = explain-zh")
                            .withFallback(ConfigFactory.parseString(defaults)),
                        "editforge.generate.reasoning")));
    assertTrue(e.getMessage().contains("student-prompt"), e.getMessage());
    assertThrows(
        SettingsException.class,
        () ->
            ReasoningSettings.from(
                new ConfigReader(
                    ConfigFactory.parseString("answer-patterns = [\"no group\"]")
                        .withFallback(ConfigFactory.parseString(defaults)),
                    "editforge.generate.reasoning")));
  }
}
