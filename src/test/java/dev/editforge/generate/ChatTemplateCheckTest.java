package dev.editforge.generate;

import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.config.ConfigLoader;
import dev.editforge.config.EditforgeSettings;
import dev.editforge.llm.ModelLoadException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The driver refuses a model whose own chat template goes over a sandbox limit for every prompt,
 * before any request is sent (exit 2 through {@link ModelLoadException}).
 */
class ChatTemplateCheckTest {
  @TempDir Path dir;

  static EditforgeSettings settings(String... sets) {
    return EditforgeSettings.from(ConfigLoader.referenceOnly(List.of(sets)));
  }

  Path modelWithTemplate(String template) throws Exception {
    Path model = Files.createDirectories(dir.resolve("model"));
    Files.writeString(
        model.resolve("tokenizer_config.json"),
        "{\"bos_token\": \"<s>\", \"chat_template\": "
            + dev.editforge.text.Json.MAPPER.writeValueAsString(template)
            + "}");
    return model;
  }

  @Test
  void aTemplateThatIncludesAClasspathFileIsRefusedWithExit2() throws Exception {
    Path model = modelWithTemplate("{% include 'core-default.xml' %}{{ messages[0]['content'] }}");
    EditforgeSettings s = settings("generate.chat=true");
    ModelLoadException e =
        assertThrows(
            ModelLoadException.class,
            () -> GenerateStage.checkChatTemplate(s.generate(), s.llm(), model));
    assertTrue(
        e.getMessage().startsWith(model.resolve("tokenizer_config.json") + ": "), e.getMessage());
    assertTrue(e.getMessage().contains("'core-default.xml' was not loaded"), e.getMessage());
    assertTrue(e.getMessage().contains("editforge.llm.chat-template"), e.getMessage());
    assertTrue(!e.getMessage().contains("\n"), "one line");
  }

  @Test
  void onlyTheModelsOwnTemplateOnChatRequestsIsChecked() throws Exception {
    Path model = modelWithTemplate("{% include 'core-default.xml' %}");
    // chat off (SEAL's raw prompts) or a built-in template chosen: the model's is never rendered
    EditforgeSettings raw = settings("generate.chat=false");
    GenerateStage.checkChatTemplate(raw.generate(), raw.llm(), model);
    EditforgeSettings builtIn = settings("generate.chat=true", "llm.chat-template=chatml");
    GenerateStage.checkChatTemplate(builtIn.generate(), builtIn.llm(), model);
    // a template that only refuses some conversations is each request's failure, not the model's
    Path refusing = dir.resolve("refusing");
    Files.createDirectories(refusing);
    Files.writeString(
        refusing.resolve("tokenizer_config.json"),
        "{\"chat_template\": \"{{ raise_exception('system message required') }}\"}");
    EditforgeSettings chat = settings("generate.chat=true");
    GenerateStage.checkChatTemplate(chat.generate(), chat.llm(), refusing);
  }
}
