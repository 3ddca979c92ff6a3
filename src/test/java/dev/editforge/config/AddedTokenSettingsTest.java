package dev.editforge.config;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.selfrag.ReflectionTokens;
import java.util.List;
import org.junit.jupiter.api.Test;

class AddedTokenSettingsTest {
  private static AddedTokenSettings added(String... sets) {
    return EditforgeSettings.from(ConfigLoader.load(null, List.of(sets))).finetune().addedTokens();
  }

  @Test
  void defaultsAddNothingMaskEachParagraphAndStartNewRowsAtTheMean() {
    AddedTokenSettings s = added();
    assertTrue(s.tokens().isEmpty());
    assertEquals("mean", s.init());
    assertEquals("per-paragraph", s.paragraphMask());
    assertEquals(0, s.resizeMultiple());
  }

  @Test
  void presetsExpandInOrderAndLiteralTokensFollow() {
    AddedTokenSettings s =
        added(
            "finetune.added-tokens=[selfrag, chatml, \"<pad>\", \"[Retrieval]\"]",
            "finetune.resize-multiple=64",
            "finetune.paragraph-mask=first-to-last");
    assertEquals(18, s.tokens().size());
    assertEquals(ReflectionTokens.ALL, s.tokens().subList(0, 15));
    assertEquals(List.of("<|im_start|>", "<|im_end|>", "<pad>"), s.tokens().subList(15, 18));
    assertEquals(64, s.resizeMultiple());
    assertEquals("first-to-last", s.paragraphMask());
  }

  @Test
  void anUnknownMaskOrInitNamesTheKey() {
    SettingsException e =
        assertThrows(SettingsException.class, () -> added("finetune.paragraph-mask=all"));
    assertTrue(e.getMessage().contains("editforge.finetune.paragraph-mask"), e.getMessage());
    e = assertThrows(SettingsException.class, () -> added("finetune.added-tokens-init=zeros"));
    assertTrue(e.getMessage().contains("editforge.finetune.added-tokens-init"), e.getMessage());
  }
}
