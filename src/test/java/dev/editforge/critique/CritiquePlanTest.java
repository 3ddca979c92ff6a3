package dev.editforge.critique;

import static org.junit.jupiter.api.Assertions.assertEquals;

import dev.editforge.config.CritiqueSettings;
import dev.editforge.selfrag.CriticType;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/** Which questions critique asks, without Spark: Self-RAG's create_prompt_data.py rules. */
class CritiquePlanTest {
  static CritiqueSettings settings(boolean swap) {
    return new CritiqueSettings(
        "openai",
        "",
        true,
        200,
        0,
        4,
        0,
        2,
        true,
        swap,
        true,
        1500,
        0.7,
        42,
        new dev.editforge.config.MaxErrorFraction("editforge.critique.max-error-fraction", 0.5));
  }

  static final String INSTRUCTION = "Tell me about the pier.";
  static final String OUTPUT =
      "The pier is two hundred metres long. It was rebuilt after the storm of 1921. "
          + "Many people like to walk along it.";

  static CritiqueInputs.Item item() {
    Map<String, List<CritiqueInputs.Ctx>> byQuery =
        Map.of(
            INSTRUCTION,
            List.of(
                new CritiqueInputs.Ctx("p1", "Pier", "A long pier."),
                new CritiqueInputs.Ctx("p2", "Storm", "The 1921 storm."),
                new CritiqueInputs.Ctx("p3", "Third", "Cut by top-n.")),
            INSTRUCTION + " It was rebuilt after the storm of 1921.",
            List.of(new CritiqueInputs.Ctx("p9", "Rebuild", "Rebuilt in 1922.")));
    return CritiqueInputs.item("i1", INSTRUCTION, OUTPUT, byQuery, 2);
  }

  @Test
  void roundOneAsksRetrievalUtilityAndMultiRetrievalWithTheSentencesOwnPassages() {
    CritiqueInputs.Item item = item();
    assertEquals(3, item.sentences().size());
    assertEquals("p9", item.passages().get(1).get(0).passageId(), "the per-sentence query wins");
    assertEquals(2, item.passages().get(0).size(), "top-n");
    List<CriticTask> tasks = CritiqueJob.phase1(List.of(item), settings(false), "judge");
    assertEquals(
        List.of("retrieval", "utility", "multi_retrieval", "multi_retrieval"),
        tasks.stream().map(CriticTask::type).toList());
    assertEquals("retrieval.multi_retrieval_three_way", tasks.get(2).template());
    assertEquals("p9", tasks.get(2).passageId());
    // Self-RAG's swap, behind its flag: three-way asked with the two-way template
    assertEquals(
        "retrieval.multi_retrieval",
        CritiqueJob.phase1(List.of(item), settings(true), "judge").get(2).template());
  }

  @Test
  void roundTwoSkipsNoRetrievalInstructionsAndSentences() {
    CritiqueInputs.Item item = item();
    Map<String, String> labels =
        Map.of(
            CritiqueJob.key(CriticType.RETRIEVAL, "i1", null), "[Retrieval]",
            CritiqueJob.key(CriticType.MULTI_RETRIEVAL, "i1", 2), "[No Retrieval]");
    List<CriticTask> tasks = CritiqueJob.phase2(List.of(item), labels, "judge");
    // sentence 0: 2 passages, sentence 1: 1 passage, sentence 2 skipped; relevance + support each
    assertEquals(6, tasks.size());
    assertEquals("relevance.multi_no_preceding", tasks.get(0).template());
    assertEquals("relevance.multi", tasks.get(4).template());
    assertEquals(
        List.of(),
        CritiqueJob.phase2(
            List.of(item),
            Map.of(CritiqueJob.key(CriticType.RETRIEVAL, "i1", null), "[No Retrieval]"),
            "judge"));
  }
}
