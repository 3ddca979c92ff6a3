package dev.editforge.judge;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import dev.editforge.SharedData;
import dev.editforge.config.ConfigReader;
import dev.editforge.config.SettingsException;
import dev.editforge.text.PyText;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

class LlmJudgeTest {

  @Test
  void yesNoRuleIsWholeWordCaseInsensitive() {
    assertTrue(LlmJudge.parseYesNo("Yes"));
    assertTrue(LlmJudge.parseYesNo("  YES."));
    assertTrue(LlmJudge.parseYesNo("yes, the answer conveys the gold"));
    assertFalse(LlmJudge.parseYesNo("No"));
    assertFalse(LlmJudge.parseYesNo("Yes and no"));
    assertFalse(LlmJudge.parseYesNo("yesterday")); // not a whole word
    assertTrue(LlmJudge.parseYesNo("yes - nothing contradicts")); // "nothing" is not "no"
    assertFalse(LlmJudge.parseYesNo("Nope"));
    assertFalse(LlmJudge.parseYesNo(""));
  }

  @Test
  void promptIsSealsWithPredictionStripped() {
    String p = LlmJudge.gradePrompt("Topic: T\nWho {x}?", "Otrar", "\n  the town of Otrar \u00a0");
    assertTrue(p.startsWith("You are a grading assistant. Your job is"));
    assertTrue(
        p.endsWith(
            "Question: Topic: T\nWho {x}?\nGold answer: Otrar\nStudent answer: the town of Otrar\n"
                + "Is the student answer correct based solely on the gold answer? Respond 'yes' or 'no'."),
        p);
  }

  @Test
  void templateEqualsSealPromptsJson() throws Exception {
    JsonNode ref = SharedData.json("reference/seal_prompts.json");
    assertEquals(ref.get("grade_template").asText(), LlmJudge.GRADE_TEMPLATE);
    String expected =
        PyText.format(
            ref.get("grade_template").asText(), Map.of("question", "Q", "gold", "G", "pred", "P"));
    assertEquals(expected, LlmJudge.gradePrompt("Q", "G", " P "));
    assertTrue(ref.get("grade_rule").asText().contains("\\byes\\b"));
  }

  @Test
  void blankAnswerIsFalseWithoutACallAndIdenticalTriplesAreAskedOnce() {
    List<String> prompts = Collections.synchronizedList(new ArrayList<>());
    LlmJudge j =
        new LlmJudge(
            p -> {
              prompts.add(p);
              return p.contains("Student answer: Otrar") ? "Yes." : "no";
            });
    assertFalse(j.correct("Q", List.of("Otrar"), "   "));
    assertEquals(0, j.calls());
    assertTrue(j.correct("Q", List.of("Otrar"), "Otrar"));
    assertTrue(j.correct("Q", List.of("Otrar"), " Otrar\n")); // same prompt once stripped
    assertFalse(j.correct("Q", List.of("Otrar"), "Bukhara"));
    assertFalse(j.correct("Q", List.of("Otrar"), "Bukhara"));
    assertEquals(2, j.calls());
    assertEquals(2, j.reused());
    assertEquals(2, prompts.size());
    assertEquals(
        List.of(true, false),
        j.correctAll(
            List.of(
                new Judge.Item("Q", List.of("Otrar"), "Otrar"),
                new Judge.Item("Q", List.of("Otrar"), "Bukhara"))));
    assertEquals(2, j.calls());
  }

  @Test
  void severalGoldsStopAtTheFirstYes() {
    List<String> golds = new ArrayList<>();
    LlmJudge j =
        new LlmJudge(
            p -> {
              String gold =
                  p.substring(p.indexOf("Gold answer: ") + 13, p.indexOf("\nStudent answer"));
              golds.add(gold);
              return gold.equals("b") ? "yes" : "no";
            });
    assertTrue(j.correct("Q", List.of("a", "b", "c"), "answer"));
    assertEquals(List.of("a", "b"), golds);
  }

  @Test
  void failedCallThrowsAndIsNotCached() {
    AtomicInteger attempts = new AtomicInteger();
    LlmJudge j =
        new LlmJudge(
            p -> {
              if (attempts.incrementAndGet() == 1) {
                throw new java.io.IOException("HTTP 503 after 3 retries");
              }
              return "yes";
            });
    JudgeException e =
        assertThrows(JudgeException.class, () -> j.correct("Topic: T\nWho?", List.of("x"), "x"));
    assertTrue(e.getMessage().contains("Who?"), e.getMessage());
    assertTrue(e.getMessage().contains("HTTP 503"), e.getMessage());
    assertTrue(j.correct("Topic: T\nWho?", List.of("x"), "x"));
    assertEquals(2, attempts.get());
    assertThrows(
        JudgeException.class, () -> new LlmJudge(p -> null).correct("Q", List.of("x"), "x"));
  }

  @Test
  void concurrentAskersOfOnePromptShareOneCall() throws Exception {
    CountDownLatch release = new CountDownLatch(1);
    AtomicInteger calls = new AtomicInteger();
    LlmJudge j =
        new LlmJudge(
            p -> {
              calls.incrementAndGet();
              release.await(10, TimeUnit.SECONDS);
              return "yes";
            });
    ExecutorService pool = Executors.newFixedThreadPool(4);
    try {
      List<Future<Boolean>> fs = new ArrayList<>();
      for (int i = 0; i < 4; i++) {
        fs.add(pool.submit(() -> j.correct("Q", List.of("g"), "p")));
      }
      while (j.calls() + j.reused() < 4) {
        Thread.sleep(5);
      }
      release.countDown();
      for (Future<Boolean> f : fs) {
        assertTrue(f.get(10, TimeUnit.SECONDS));
      }
    } finally {
      pool.shutdownNow();
    }
    assertEquals(1, calls.get());
    assertEquals(3, j.reused());
  }

  @Test
  void settingsPickTheJudge() {
    String defaults =
        "kind = llm, f1-threshold = 0.1, recall-threshold = 0.75, llm.model = gpt-4.1";
    JudgeSettings s =
        dev.editforge.config.RuntimeSettings.judge(
            new ConfigReader(
                ConfigFactory.parseString("kind = f1, f1-threshold = 0.3")
                    .withFallback(ConfigFactory.parseString(defaults)),
                "editforge.judge"));
    assertEquals("f1", s.create(null).name());
    assertEquals(0.3, s.f1Threshold());
    JudgeSettings llm =
        dev.editforge.config.RuntimeSettings.judge(
            new ConfigReader(ConfigFactory.parseString(defaults), "editforge.judge"));
    assertEquals("llm", llm.create(p -> "yes").name());
    assertThrows(IllegalArgumentException.class, () -> llm.create(null));
    SettingsException e =
        assertThrows(
            SettingsException.class,
            () ->
                dev.editforge.config.RuntimeSettings.judge(
                    new ConfigReader(
                        ConfigFactory.parseString("kind = bleu")
                            .withFallback(ConfigFactory.parseString(defaults)),
                        "editforge.judge")));
    assertTrue(e.getMessage().contains("editforge.judge.kind"), e.getMessage());
    assertTrue(e.getMessage().contains("token-recall"), e.getMessage());
  }
}
