package dev.editforge.llm;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.SharedData;
import java.nio.file.Path;
import java.util.Arrays;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class LlmTokenizerTest {
  @TempDir static Path dir;
  static LlmTokenizer llama;
  static LlmTokenizer qwen;
  static LlmTokenizer mistral;

  @BeforeAll
  static void load() {
    llama = LlmTokenizer.load(TinyModels.llama(dir.resolve("l"), TinyModels.Size.TINY, 1));
    qwen = LlmTokenizer.load(TinyModels.qwen2(dir.resolve("q"), TinyModels.Size.TINY, 1));
    mistral = LlmTokenizer.load(TinyModels.mistral(dir.resolve("m"), TinyModels.Size.TINY, 1));
  }

  @AfterAll
  static void close() {
    llama.close();
    qwen.close();
    mistral.close();
  }

  @Test
  void specialTokensAreAddedAsTransformersAddsThem() {
    int[] l = llama.encode("the end");
    assertEquals(
        llama.specialTokenId("<|begin_of_text|>"),
        l[0],
        "Llama 3: the post-processor prepends BOS");
    assertArrayEquals(Arrays.copyOfRange(l, 1, l.length), llama.encode("the end", false));
    int[] m = mistral.encode("the end");
    assertEquals(1, m[0], "Mistral: add_bos_token");
    assertArrayEquals(Arrays.copyOfRange(m, 1, m.length), mistral.encode("the end", false));
    assertArrayEquals(qwen.encode("the end", false), qwen.encode("the end"), "Qwen adds nothing");
    assertEquals(-1, qwen.bosTokenId());
  }

  @Test
  void stories260KEncodesWithBosAndTheDummyPrefixSpace() {
    try (LlmTokenizer t = LlmTokenizer.load(SharedData.require("models/stories260K-hf"))) {
      assertArrayEquals(new int[] {1, 403, 407, 261, 378}, t.encode("Once upon a time"));
      assertArrayEquals(new int[] {1}, t.encode(""));
      assertArrayEquals(new int[] {1, 317}, t.encode("Lily"));
      assertEquals("Once upon a time", t.decode(new int[] {1, 403, 407, 261, 378}));
    }
  }

  @Test
  void decodeRoundTripsUnicodeAndSkipsSpecialTokens() {
    String text = "Grüße, 日本 — the thing!";
    for (LlmTokenizer t : new LlmTokenizer[] {llama, qwen, mistral}) {
      assertEquals(text, t.decode(t.encode(text)));
    }
    int[] chat = qwen.encode("<|im_start|>user\nhi<|im_end|>", false);
    assertEquals(
        qwen.specialTokenId("<|im_start|>"), chat[0], "special tokens in text are matched as such");
    assertEquals("user\nhi", qwen.decode(chat));
    assertEquals("<|im_start|>user\nhi<|im_end|>", qwen.decode(chat, false));
  }

  @Test
  void longTextsAreNotTruncatedTo512Tokens() {
    int[] ids = qwen.encode("word ".repeat(1500));
    assertTrue(ids.length > 1500, "DJL's default truncation is off: " + ids.length);
  }

  @Test
  void readsSpecialTokensAndTheChatTemplateFromTokenizerConfig() {
    assertEquals("<|im_end|>", qwen.eosToken());
    assertEquals("<|endoftext|>", qwen.padToken());
    assertEquals(TinyModels.QWEN25_CHAT_TEMPLATE, qwen.chatTemplate());
    assertEquals(TinyModels.MISTRAL_CHAT_TEMPLATE, mistral.chatTemplate());
    assertEquals(qwen.specialTokenId("<|im_end|>"), qwen.eosTokenId());
    assertTrue(qwen.isSpecial(qwen.eosTokenId()));
    assertEquals(279, qwen.vocabSize());
  }

  @Test
  void incrementalTextEqualsTheDifferenceOfFullDecodes() {
    for (LlmTokenizer t : new LlmTokenizer[] {llama, qwen, mistral}) {
      int[] all = t.encode("Tell me about 日本 and the rest");
      int split = t.encode("Tell me").length;
      int[] prompt = Arrays.copyOf(all, split);
      assertArrayEquals(t.encode("Tell me"), prompt);
      IncrementalDetokenizer d = new IncrementalDetokenizer(t, prompt);
      for (int i = split; i < all.length; i++) {
        d.append(all[i]);
      }
      String expected = t.decode(all).substring(t.decode(prompt).length());
      assertEquals(expected, d.text());
      assertTrue(
          expected.startsWith(" "), "the completion keeps its leading space: [" + expected + "]");
      assertTrue(expected.endsWith("日本 and the rest"), expected);
    }
    // SentencePiece strips the leading space of a lone decode; in context it is kept.
    int[] word = mistral.encode("a the", false);
    assertNotEquals(" the", mistral.decode(Arrays.copyOfRange(word, word.length - 1, word.length)));
  }
}
