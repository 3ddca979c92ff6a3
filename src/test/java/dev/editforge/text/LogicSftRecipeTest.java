package dev.editforge.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import dev.editforge.SharedData;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.Test;

class LogicSftRecipeTest {
  static final String PROBLEM = "有三个人：甲、乙、丙。甲说{question}是真话。";
  static final String QUESTION = "谁说了真话？";
  static final List<String> OPTIONS = List.of("甲", "乙", "丙");
  static final String REASONING = "甲说的话自相矛盾,所以乙说了真话。";

  @Test
  void trainingTextOfOneProblemIsExactlyTheSeeds() {
    String expected =
        "你是一个逻辑推理专家,擅长解决逻辑推理问题。以下是一个逻辑推理的题目,形式为单项选择题。所有的问题都是(close-world assumption)闭世界假设,即未观测事实都为假。"
            + "每个问题都保证能通过一系列基于形式逻辑的推理(包括同一律,矛盾律,排中律的使用等)得到确定的答案。"
            + "请逐步分析问题,写出思考过程,并在最后一行输出答案,最后一行的格式为\"答案是:A\"或\"答案是:B\"或\"答案是:C\"或\"答案是:D\"等等。"
            + "如果你做对了这个题目,你会获得的一亿奖金。题目如下:\n"
            + "### 题目\n有三个人：甲、乙、丙。甲说{question}是真话。\n"
            + "### 问题\n谁说了真话？\n"
            + "A: 甲\nB: 乙\nC: 丙\n"
            + "### 分析过程\n甲说的话自相矛盾,所以乙说了真话。\n"
            + "### 答案\n答案是:B";
    assertEquals(expected, LogicSftRecipe.trainText(PROBLEM, QUESTION, OPTIONS, REASONING, "B"));
    assertEquals(
        expected,
        LogicSftRecipe.trainPrompt(PROBLEM, QUESTION, OPTIONS)
            + LogicSftRecipe.trainCompletion(REASONING, "B"));
    assertEquals(
        "### 题目\n有三个人：甲、乙、丙。甲说{question}是真话。\n### 问题\n谁说了真话？\nA: 甲\nB: 乙\nC: 丙\n### 答案\nB",
        LogicSftRecipe.teacherUser(PROBLEM, QUESTION, OPTIONS, "B"));
  }

  @Test
  void stringsAreByteIdenticalToTheReferenceFile() throws Exception {
    JsonNode ref = SharedData.json("reference/logic_sft.json");
    String options = LogicSftRecipe.formatOptions(OPTIONS);
    assertEquals(ref.get("teacher_system").asText(), LogicSftRecipe.TEACHER_SYSTEM);
    assertEquals(ref.get("train_head").asText(), LogicSftRecipe.TRAIN_HEAD);
    assertEquals(
        ref.get("teacher_user_template")
            .asText()
            .replace("{answer}", "B")
            .replace("{options}", options)
            .replace("{question}", QUESTION)
            .replace("{problem}", "P"),
        LogicSftRecipe.teacherUser("P", QUESTION, OPTIONS, "B"));
    assertEquals(
        ref.get("train_text_template")
            .asText()
            .replace("{head}", ref.get("train_head").asText())
            .replace("{format_options(x['options'])}", options)
            .replace("{reasoning}", REASONING)
            .replace("{answer}", "B")
            .replace("{question}", QUESTION)
            .replace("{problem}", "P"),
        LogicSftRecipe.trainText("P", QUESTION, OPTIONS, REASONING, "B"));
    assertEquals(
        ref.get("inference_prompt_template")
            .asText()
            .replace("{options}", options)
            .replace("{question}", QUESTION)
            .replace("{problem}", "P"),
        LogicSftRecipe.inferencePrompt("P", QUESTION, OPTIONS));
    JsonNode inf = ref.get("inference");
    List<String> cuts = new ArrayList<>();
    inf.get("cut_response_at").forEach(c -> cuts.add(c.asText()));
    assertEquals(cuts, LogicSftRecipe.CUT_AT);
    assertEquals(inf.get("voter").asInt(), LogicSftRecipe.VOTER);
    assertEquals(inf.get("attempts").asInt(), LogicSftRecipe.ATTEMPTS);
    assertEquals("答案是:[A-Z]", inf.get("answer_regex").asText());
  }

  @Test
  void optionsAreFormattedAsGivenWithoutStrippingOwnLabels() {
    assertEquals("A: A. x\nB:  y", LogicSftRecipe.formatOptions(List.of("A. x", " y")));
  }

  @Test
  void answersParseInAsciiAndFullWidthAndTheFirstWins() {
    assertEquals("B", LogicSftRecipe.extract("分析……\n答案是:B"));
    assertEquals("D", LogicSftRecipe.extract("答案是：D"));
    assertEquals("C", LogicSftRecipe.extract("答案是：Ｃ"));
    assertEquals("A", LogicSftRecipe.extract("答案是:A 然后 答案是:B"));
    assertNull(LogicSftRecipe.extract("答案是 B"));
    assertNull(LogicSftRecipe.extract("答案是:b"));
  }

  @Test
  void responsesAreCutAtTheFirstCutString() {
    String r = "推理\n答案是:A\n---\n### 题目\n答案是:B";
    assertEquals("推理\n答案是:A\n", LogicSftRecipe.cut(r, LogicSftRecipe.CUT_AT));
    // The answer after a new "### 问题" belongs to a problem the model made up.
    assertEquals(
        Arrays.asList((String) null),
        LogicSftRecipe.answers(List.of("推理\n### 问题\n答案是:B"), LogicSftRecipe.CUT_AT));
  }

  @Test
  void voteCountsNoAnswerAndFirstSeenWinsTies() {
    assertEquals("B", LogicSftRecipe.vote(Arrays.asList("B", "A", "B")));
    assertEquals("A", LogicSftRecipe.vote(Arrays.asList("A", "B")));
    assertEquals("B", LogicSftRecipe.vote(Arrays.asList("B", null, "A", null, "B", "A")));
    assertNull(LogicSftRecipe.vote(Arrays.asList(null, null, "A")));
    assertNull(LogicSftRecipe.vote(Arrays.asList(null, "A")));
    assertEquals("A", LogicSftRecipe.vote(Arrays.asList("A", null)));
    assertNull(LogicSftRecipe.vote(List.of()));
  }
}
