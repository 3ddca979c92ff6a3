package dev.editforge.selfrag;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;

import com.fasterxml.jackson.databind.JsonNode;
import dev.editforge.SharedData;
import java.io.IOException;
import java.util.Iterator;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * Every critic prompt editforge renders equals Self-RAG's template from prompts.json formatted with
 * the same inputs (Python's format_map on field-free values is a plain replacement), demonstrations
 * included.
 */
class CriticPromptsTest {
  static final String INSTRUCTION = "Who wrote the novel Rebecca?";
  static final String PRECEDING = "Rebecca is a 1938 Gothic novel.";
  static final String EVIDENCE =
      CriticPrompts.evidence("Rebecca (novel)", "Rebecca is a novel by Daphne du Maurier.");
  static final String TARGET = "It was written by Daphne du Maurier.";
  static final String OUTPUT = PRECEDING + " " + TARGET;

  static String python(String template, Map<String, String> values) {
    String out = template;
    for (Map.Entry<String, String> e : values.entrySet()) {
      out = out.replace("{" + e.getKey() + "}", e.getValue());
    }
    return out;
  }

  static String selfRag(JsonNode prompts, String type, String variant) {
    return prompts.path("critic_gpt4_prompts").path(type).path("value").path(variant).textValue();
  }

  @Test
  void everyGpt4PromptIsByteIdenticalToSelfRags() throws IOException {
    JsonNode p = SharedData.json("reference/selfrag/prompts.json");
    Map<String, String> all =
        Map.of(
            "instruction", INSTRUCTION,
            "preceding_sentences", PRECEDING,
            "evidence", EVIDENCE,
            "target_output", TARGET,
            "output", OUTPUT);
    assertEquals(
        python(selfRag(p, "retrieval", "context"), all),
        CriticPrompts.retrieval(INSTRUCTION).prompt());
    for (boolean threeWay : new boolean[] {false, true}) {
      String base = threeWay ? "multi_retrieval_three_way" : "multi_retrieval";
      assertEquals(
          python(selfRag(p, "retrieval", base), all),
          CriticPrompts.multiRetrieval(INSTRUCTION, PRECEDING, EVIDENCE, TARGET, threeWay)
              .prompt());
      assertEquals(
          python(selfRag(p, "retrieval", base + "_no_preceding"), all),
          CriticPrompts.multiRetrieval(INSTRUCTION, null, EVIDENCE, TARGET, threeWay).prompt());
    }
    assertEquals(
        python(selfRag(p, "relevance", "multi"), all),
        CriticPrompts.relevance(INSTRUCTION, EVIDENCE, true).prompt());
    assertEquals(
        python(selfRag(p, "relevance", "multi_no_preceding"), all),
        CriticPrompts.relevance(INSTRUCTION, EVIDENCE, false).prompt());
    assertEquals(
        python(selfRag(p, "groundness", "multi"), all),
        CriticPrompts.support(INSTRUCTION, PRECEDING, TARGET, EVIDENCE).prompt());
    assertEquals(
        python(selfRag(p, "groundness", "multi_no_preceding"), all),
        CriticPrompts.support(INSTRUCTION, "", TARGET, EVIDENCE).prompt());
    assertEquals(
        python(selfRag(p, "groundness", "context"), all),
        CriticPrompts.supportWhole(INSTRUCTION, OUTPUT, EVIDENCE).prompt());
    assertEquals(
        python(selfRag(p, "utility", "context"), all),
        CriticPrompts.utility(INSTRUCTION, "", OUTPUT).prompt());
    // chatgpt_utility.py appends an input longer than one character after a space
    assertEquals(
        python(
            selfRag(p, "utility", "context"),
            Map.of("instruction", INSTRUCTION + " in 1938", "output", OUTPUT)),
        CriticPrompts.utility(INSTRUCTION, "in 1938", OUTPUT).prompt());
  }

  @Test
  void everyTemplateAndTrainingPromptMatchesTheReferenceFile() throws IOException {
    JsonNode p = SharedData.json("reference/selfrag/prompts.json");
    int checked = 0;
    for (String type : new String[] {"retrieval", "relevance", "groundness", "utility"}) {
      JsonNode values = p.path("critic_gpt4_prompts").path(type).path("value");
      for (Iterator<String> it = values.fieldNames(); it.hasNext(); ) {
        String variant = it.next();
        assertEquals(
            values.get(variant).textValue(),
            CriticPrompts.template(type + "." + variant),
            type + "." + variant);
        checked++;
      }
    }
    JsonNode training = p.path("critic_training_data_prompts").path("value");
    for (Iterator<String> it = training.fieldNames(); it.hasNext(); ) {
      String key = it.next();
      assertEquals(training.get(key).textValue(), CriticPrompts.trainingPrompt(key), key);
      checked++;
    }
    assertEquals(27, checked);
  }

  @Test
  void formatIsOnePassLikePythonsFormatMap() {
    assertEquals(
        "a {evidence} b",
        CriticPrompts.format(
            "a {instruction} b", Map.of("instruction", "{evidence}", "evidence", "X")));
    assertEquals("{x}", CriticPrompts.format("{{x}}", Map.of()));
    assertThrows(IllegalArgumentException.class, () -> CriticPrompts.format("{missing}", Map.of()));
  }
}
