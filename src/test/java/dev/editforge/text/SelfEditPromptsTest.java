package dev.editforge.text;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.typesafe.config.ConfigFactory;
import dev.editforge.SharedData;
import dev.editforge.config.ConfigReader;
import dev.editforge.config.SelfEditSettings;
import dev.editforge.config.SettingsException;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

class SelfEditPromptsTest {

  @Test
  void rendersTitleAndContextVerbatimInOnePass() {
    SelfEditPrompts p = SelfEditPrompts.builtIn();
    // Context keeps its surrounding whitespace (SEAL formats the raw field) and a literal
    // "{title}" inside the context is not substituted a second time.
    String out = p.render("implications", "T{context}", "  body {title}\n");
    assertEquals(
        "Let's read the following passage and produce a list of implications derived directly or indirectly "
            + "from the content.\n\nPassage:\nT{context}\n  body {title}\n\n\nImplications:\n",
        out);
    assertTrue(p.render("self-qa", "A", "B").endsWith("Passage:\nA\nB\n\nQuestion 1: "));
  }

  @Test
  void userTemplatesRenderAndUnknownKeyListsKeys() {
    Map<String, String> user = new LinkedHashMap<>();
    user.put("summary", "Summarize {title}: {context} {{json}}");
    SelfEditPrompts p = new SelfEditPrompts(user);
    assertEquals("Summarize X: Y {json}", p.render("summary", "X", "Y"));
    assertEquals(
        List.of(
            "implications",
            "implications-long",
            "implications-very-long",
            "rewrite",
            "self-qa",
            "summary"),
        new ArrayList<>(p.keys()));
    IllegalArgumentException e =
        assertThrows(IllegalArgumentException.class, () -> p.render("nope", "a", "b"));
    assertTrue(e.getMessage().contains("\"nope\""), e.getMessage());
    assertTrue(e.getMessage().contains("implications, implications-long"), e.getMessage());
    assertTrue(e.getMessage().contains("summary"), e.getMessage());
  }

  @Test
  void badUserTemplatesAreRefusedAtConstruction() {
    assertThrows(
        IllegalArgumentException.class, () -> new SelfEditPrompts(Map.of("x", "Read {passage}")));
    assertThrows(
        IllegalArgumentException.class, () -> new SelfEditPrompts(Map.of("x", "Read {0}")));
    assertThrows(
        IllegalArgumentException.class, () -> new SelfEditPrompts(Map.of("x", "Read } {title}")));
    IllegalArgumentException e =
        assertThrows(
            IllegalArgumentException.class,
            () -> new SelfEditPrompts(Map.of("rewrite", "{title}")));
    assertTrue(e.getMessage().contains("built-in"), e.getMessage());
  }

  @Test
  void settingsValidatePromptKeyAgainstUserTemplates() {
    var ok =
        SelfEditSettings.from(
            reader("prompt-key = mine, templates { mine = \"{title}|{context}\" }"));
    assertEquals("mine", ok.promptKey());
    assertEquals("a|b", ok.prompts().render(ok.promptKey(), "a", "b"));
    assertEquals(5, ok.sampling().n());
    SettingsException e =
        assertThrows(
            SettingsException.class, () -> SelfEditSettings.from(reader("prompt-key = missing")));
    assertTrue(e.getMessage().contains("editforge.generate.self-edit.prompt-key"), e.getMessage());
    assertTrue(e.getMessage().contains("implications"), e.getMessage());
  }

  static ConfigReader reader(String overrides) {
    String defaults =
        "prompt-key = implications, templates {}, k = 5, temperature = 1.0, top-p = 0.95, max-new-tokens = 8192, seed = 0";
    return new ConfigReader(
        ConfigFactory.parseString(overrides)
            .withFallback(ConfigFactory.parseString(defaults))
            .resolve(),
        "editforge.generate.self-edit");
  }

  @Test
  void builtInsAreByteIdenticalToSealPromptsJson() throws Exception {
    JsonNode ref = SharedData.json("reference/seal_prompts.json").get("self_edit_templates");
    List<String> names = new ArrayList<>();
    for (Iterator<String> it = ref.fieldNames(); it.hasNext(); ) {
      String name = it.next();
      names.add(name);
      assertEquals(ref.get(name).asText(), SelfEditPrompts.BUILT_IN.get(name), name);
    }
    assertEquals(names, new ArrayList<>(SelfEditPrompts.BUILT_IN.keySet()));
  }

  @Test
  void implicationsReproducesEverySealPromptField() throws Exception {
    SelfEditPrompts p = SelfEditPrompts.builtIn();
    int checked = 0;
    for (String file :
        List.of(
            "data/seal/base_val.json", "data/seal/iter0_train.json", "data/seal/gpt4_1_val.json")) {
      for (JsonNode a : SharedData.json(file)) {
        assertEquals(
            a.get("prompt").asText(),
            p.render(
                SelfEditPrompts.DEFAULT_KEY, a.get("title").asText(), a.get("context").asText()),
            file + ": " + a.get("title").asText());
        checked++;
      }
    }
    assertEquals(500, checked);
  }
}
