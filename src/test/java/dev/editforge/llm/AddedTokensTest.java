package dev.editforge.llm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import dev.editforge.selfrag.ReflectionTokens;
import dev.editforge.text.Json;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class AddedTokensTest {
  @TempDir Path dir;

  @Test
  void newTokensGetTheIdsAfterTheVocabularyInOrderAndKnownOnesKeepTheirs() throws Exception {
    Path base = TinyModels.qwen2(dir.resolve("base"), TinyModels.Size.TINY, 1);
    int oldSize;
    int imEnd;
    try (LlmTokenizer before = LlmTokenizer.load(base)) {
      oldSize = before.vocabSize();
      imEnd = before.specialTokenId("<|im_end|>");
    }
    List<String> tokens = new ArrayList<>(ReflectionTokens.ALL);
    tokens.add("<|im_end|>"); // ChatML's, which Qwen has already
    tokens.add(ReflectionTokens.RETRIEVAL); // a repeat
    AddedTokens.Result r = AddedTokens.write(base, dir.resolve("out"), tokens);
    assertEquals(oldSize, r.oldSize());
    assertEquals(oldSize + 15, r.newSize());
    assertEquals(ReflectionTokens.ALL, r.added());
    assertEquals(oldSize, r.ids().get("[No Retrieval]"), "Self-RAG's first token comes first");
    assertEquals(oldSize + 14, r.ids().get("[No support / Contradictory]"));
    assertEquals(imEnd, r.ids().get("<|im_end|>"));

    Path out = dir.resolve("out");
    try (LlmTokenizer t = LlmTokenizer.load(out)) {
      assertEquals(oldSize + 15, t.vocabSize());
      int retrieval = t.specialTokenId("[Retrieval]");
      assertEquals(oldSize + 1, retrieval);
      int[] ids = t.encode("[Retrieval]<paragraph>ok</paragraph>[Utility:5]", false);
      assertEquals(retrieval, ids[0], "an added token is one token, never split");
      assertEquals(t.specialTokenId("<paragraph>"), ids[1]);
      assertEquals(t.specialTokenId("[Utility:5]"), ids[ids.length - 1]);
      assertEquals("ok", t.decode(ids, true));
      assertEquals("[Retrieval]<paragraph>ok</paragraph>[Utility:5]", t.decode(ids, false));
      assertTrue(t.isSpecial(retrieval));
      assertArrayEquals(ids, t.encode("[Retrieval]<paragraph>ok</paragraph>[Utility:5]", false));
    }
    JsonNode cfg = Json.COMPACT.readTree(out.resolve("tokenizer_config.json").toFile());
    JsonNode decoder = cfg.get("added_tokens_decoder").get(String.valueOf(oldSize + 1));
    assertEquals("[Retrieval]", decoder.get("content").asText());
    assertTrue(decoder.get("special").asBoolean());
    List<String> extra = new ArrayList<>();
    cfg.get("additional_special_tokens").forEach(n -> extra.add(n.asText()));
    assertEquals(16, extra.size());
    assertEquals("[No Retrieval]", extra.get(0));
    assertTrue(extra.contains("<|im_end|>"));
    // the chat template and the other keys survive
    assertFalse(cfg.path("chat_template").asText().isEmpty());
  }
}
