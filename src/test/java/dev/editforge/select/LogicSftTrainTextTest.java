package dev.editforge.select;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import com.fasterxml.jackson.databind.JsonNode;
import dev.editforge.SharedData;
import dev.editforge.io.Rows;
import dev.editforge.text.LogicSftRecipe;
import java.util.List;
import java.util.Map;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.junit.jupiter.api.Test;

/** select under generate.reasoning.recipe = logic-sft: the seed's training text, split in two. */
class LogicSftTrainTextTest {
  static final ReasoningRows.Settings KEEP_AGREEING = new ReasoningRows.Settings(true, true, 0.0);

  static Row trace(String reasoning, Boolean agrees, String gold, String predicted) {
    return RowFactory.create(
        "t1",
        "p1",
        0,
        0,
        reasoning,
        agrees,
        1.0,
        null,
        "甲说乙说谎。",
        "谁说了真话？",
        Rows.seq(List.of("甲", "乙")),
        gold,
        predicted);
  }

  static SelectFunctions.ReasoningPick decide(Row r) throws Exception {
    return new SelectFunctions.DecideTrace("solve-en", Map.of(), KEEP_AGREEING, true).call(r);
  }

  @Test
  void promptPlusCompletionIsTheSeedsTrainingText() throws Exception {
    SelectFunctions.ReasoningPick p = decide(trace("\n乙说的是真话。\n", true, "B", "B"));
    assertNull(p.drop);
    String text =
        LogicSftRecipe.TRAIN_HEAD + "\n### 题目\n甲说乙说谎。\n### 问题\n谁说了真话？\nA: 甲\nB: 乙\n### 分析过程\n";
    assertEquals(text, p.prompt);
    assertEquals("乙说的是真话。\n### 答案\n答案是:B", p.completion);
  }

  @Test
  void byteIdenticalToTheReferenceTemplate() throws Exception {
    JsonNode ref = SharedData.json("reference/logic_sft.json");
    SelectFunctions.ReasoningPick p = decide(trace("乙说的是真话。", true, "B", "A"));
    String expected =
        ref.get("train_text_template")
            .asText()
            .replace("{head}", ref.get("train_head").asText())
            .replace("{format_options(x['options'])}", "A: 甲\nB: 乙")
            .replace("{reasoning}", "乙说的是真话。")
            .replace("{answer}", "B")
            .replace("{question}", "谁说了真话？")
            .replace("{problem}", "甲说乙说谎。");
    assertEquals(expected, p.prompt + p.completion);
  }

  @Test
  void withoutGoldTheVotedAnswerEndsTheTextAndWithoutEitherTheTraceIsDropped() throws Exception {
    assertEquals("x\n### 答案\n答案是:A", decide(trace("x", true, null, "A")).completion);
    assertEquals(ReasoningRows.Drop.NOT_AGREEING.key(), decide(trace("x", true, null, null)).drop);
    assertEquals(ReasoningRows.Drop.NOT_AGREEING.key(), decide(trace("x", false, "B", "A")).drop);
  }
}
