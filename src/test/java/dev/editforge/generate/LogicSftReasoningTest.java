package dev.editforge.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.typesafe.config.ConfigFactory;
import dev.editforge.config.ConfigReader;
import dev.editforge.config.ReasoningSettings;
import dev.editforge.config.SettingsException;
import dev.editforge.io.Rows;
import dev.editforge.llm.ChatMessage;
import dev.editforge.llm.Completion;
import dev.editforge.llm.FinishReason;
import dev.editforge.llm.GenerationRequest;
import dev.editforge.llm.GenerationResult;
import dev.editforge.llm.SamplingParams;
import dev.editforge.llm.TextGenerator;
import dev.editforge.text.LogicSftRecipe;
import java.util.ArrayList;
import java.util.List;
import org.apache.spark.sql.Row;
import org.apache.spark.sql.RowFactory;
import org.junit.jupiter.api.Test;

/** generate.reasoning.recipe = logic-sft: the seed's prompts, its system role and stop strings. */
class LogicSftReasoningTest {
  static final String DEFAULTS =
      "teacher-prompt = explain-en, student-prompt = solve-en, templates {}, last-line-only = true, samples = 1, "
          + "answer-patterns = [\"(?i:answer)\\\\s*:\\\\s*([A-Z])\"]";

  static ReasoningSettings settings(String overrides) {
    return ReasoningSettings.from(
        new ConfigReader(
            ConfigFactory.parseString(overrides).withFallback(ConfigFactory.parseString(DEFAULTS)),
            "editforge.generate.reasoning"));
  }

  @Test
  void theRecipeBringsItsCutStringsUnlessStopIsSet() {
    assertEquals(List.of(), settings("").stop());
    ReasoningSettings logic = settings("recipe = logic-sft");
    assertTrue(logic.logicSft());
    assertEquals(List.of("---", "### 题目", "### 问题"), logic.stop());
    assertEquals(List.of("END"), settings("recipe = logic-sft, stop = [END]").stop());
    SettingsException e = assertThrows(SettingsException.class, () -> settings("recipe = logic"));
    assertTrue(e.getMessage().contains("editforge.generate.reasoning.recipe"), e.getMessage());
    assertTrue(e.getMessage().contains("logic-sft"), e.getMessage());
  }

  @Test
  void teacherAndStudentPromptsAreTheSeedsAndTheSystemRoleGoesWithTheTeacher() {
    List<Row> questions =
        List.of(
            RowFactory.create("谁说了真话？", Rows.seq(List.of("甲", "乙")), "B"),
            RowFactory.create("谁在说谎？", Rows.seq(List.of("甲", "乙")), null));
    GenerateFunctions.Sampling sampling =
        new GenerateFunctions.Sampling(64, 0.7, 0.95, LogicSftRecipe.CUT_AT);
    List<ReasoningJob.TraceTask> tasks =
        ReasoningJob.tasks(
            "p1", "甲说乙说谎。", questions, null, "explain-en", "solve-en", 1, 42, "m", sampling);
    assertEquals("### 题目\n甲说乙说谎。\n### 问题\n谁说了真话？\nA: 甲\nB: 乙\n### 答案\nB", tasks.get(0).prompt());
    assertEquals(
        LogicSftRecipe.inferencePrompt("甲说乙说谎。", "谁在说谎？", List.of("甲", "乙")),
        tasks.get(1).prompt());

    List<GenerationRequest> seen = new ArrayList<>();
    TextGenerator recording =
        new TextGenerator() {
          @Override
          public List<GenerationResult> generate(List<GenerationRequest> requests) {
            seen.addAll(requests);
            List<GenerationResult> out = new ArrayList<>();
            for (GenerationRequest r : requests) {
              out.add(
                  new GenerationResult(
                      r.id(),
                      List.of(new Completion("答案是:B", List.of(1), FinishReason.STOP, 1)),
                      5,
                      null));
            }
            return out;
          }

          @Override
          public String modelName() {
            return "recording";
          }

          @Override
          public void close() {}
        };
    List<BatchRunner.Job> jobs = new ArrayList<>();
    for (ReasoningJob.TraceTask t : tasks) {
      jobs.add(
          new BatchRunner.Job(
              t.traceId(),
              t.prompt(),
              sampling.seeded(t.seed()),
              t.gold() != null ? LogicSftRecipe.TEACHER_SYSTEM : null));
    }
    new BatchRunner(recording, true, 0).run(jobs);
    assertEquals(
        List.of(
            ChatMessage.system(LogicSftRecipe.TEACHER_SYSTEM),
            ChatMessage.user(tasks.get(0).prompt())),
        seen.get(0).messages());
    assertEquals(List.of(ChatMessage.user(tasks.get(1).prompt())), seen.get(1).messages());
    SamplingParams s = seen.get(0).sampling();
    assertEquals(List.of("---", "### 题目", "### 问题"), s.stop());

    // Without a chat template the system text leads the prompt.
    seen.clear();
    new BatchRunner(recording, false, 0).run(jobs.subList(0, 1));
    assertEquals(
        LogicSftRecipe.TEACHER_SYSTEM + "\n" + tasks.get(0).prompt(), seen.get(0).prompt());
  }
}
