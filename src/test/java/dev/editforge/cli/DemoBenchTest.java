package dev.editforge.cli;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.io.Manifest;
import dev.editforge.llm.ChatMessage;
import dev.editforge.llm.ChatTemplate;
import dev.editforge.llm.DecoderLayout;
import dev.editforge.llm.LlmTokenizer;
import dev.editforge.llm.ModelConfig;
import dev.editforge.llm.TinyModels;
import dev.editforge.llm.TinyTokenizerWriter;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * {@code bench demo}'s parts that need no model run: the Qwen2.5-0.5B shapes, its tokenizer and
 * chat template, and the per-stage times read back from manifests (DemoBenchIT runs it end to end).
 */
class DemoBenchTest {
  @Test
  void theDefaultShapesAreQwen25HalfBsParameterCount() {
    ModelConfig c = DemoBenchRunner.qwenShapes(Map.of());
    // Hugging Face's count for Qwen/Qwen2.5-0.5B-Instruct (tied embeddings, q/k/v bias).
    assertEquals(494_032_768L, DemoBenchRunner.parameters(c));
    long written =
        DecoderLayout.expectedShapes(c).values().stream()
            .mapToLong(s -> Arrays.stream(s).reduce(1, (a, b) -> a * b))
            .sum();
    assertEquals(494_032_768L, written);
    assertEquals(151_936, c.vocabSize());
    assertEquals(64, c.headDim());
  }

  @Test
  void theTokenizerFillsTheVocabularyAndRoundTripsTheSample(@TempDir Path dir) throws Exception {
    List<String> texts = DemoBenchRunner.sampleTexts();
    TinyTokenizerWriter.Vocab v = DemoBenchRunner.vocab(3000, texts);
    assertEquals(3000, v.size());
    assertEquals(2999, v.id("<|im_end|>"));
    TinyTokenizerWriter.write(dir, v, true, null, false);
    LlmTokenizer tok = LlmTokenizer.load(dir);
    String text = texts.get(1);
    int[] ids = tok.encode(text, false);
    assertEquals(text, tok.decode(ids));
    // Learned merges make the sample's words whole tokens, as Qwen's vocabulary does for English.
    int words = text.split("\\s+").length;
    assertTrue(ids.length < 1.6 * words, ids.length + " tokens for " + words + " words");
    int[] filler = tok.encode(" zzz", false);
    assertEquals(" zzz", tok.decode(filler));
  }

  @Test
  void theChatTemplateRendersAsQwen25sOwn() {
    ChatTemplate ours = ChatTemplate.of(DemoBenchRunner.QWEN25_TEMPLATE, null, "<|im_end|>");
    ChatTemplate qwen = ChatTemplate.of(TinyModels.QWEN25_CHAT_TEMPLATE, null, "<|im_end|>");
    for (List<ChatMessage> messages :
        List.of(
            List.of(ChatMessage.user("Who founded Veltmoor?")),
            List.of(
                ChatMessage.system("Be brief."),
                ChatMessage.user("Q"),
                ChatMessage.assistant("A"),
                ChatMessage.user("Q2")))) {
      assertEquals(qwen.render(messages, true), ours.render(messages, true));
    }
    assertTrue(ours.render(List.of(ChatMessage.user("x")), true).contains("You are Qwen"));
  }

  @Test
  void stageTimesAddUpEachStagesTablesInPipelineOrder(@TempDir Path run) throws Exception {
    manifest(run, "self_edits", "generate", Manifest.COMPLETED, 10.0, 30);
    manifest(run, "reasoning", "generate", Manifest.COMPLETED, 2.5, 19);
    manifest(run, "identity_probe", "identity-probe", Manifest.COMPLETED, 1.0, 4);
    manifest(run, "articles", "ingest", Manifest.COMPLETED, 3.0, 15);
    manifest(run, "problems", "ingest", Manifest.SKIPPED, 99.0, 10);
    manifest(run, "_staging/x", "select", Manifest.COMPLETED, 99.0, 1);
    Map<String, DemoBenchRunner.StageTime> t = DemoBenchRunner.stageTimes(run, null);
    assertEquals(List.of("ingest", "generate", "identity-probe"), List.copyOf(t.keySet()));
    assertEquals(12.5, t.get("generate").seconds(), 1e-9);
    assertEquals(49, t.get("generate").rows());
    assertEquals(3.0, t.get("ingest").seconds(), 1e-9);
  }

  private static void manifest(
      Path run, String table, String stage, String status, double seconds, long rows)
      throws Exception {
    Manifest m = Manifest.start(stage, table, "h", "v", "f").count("output", rows);
    m.finish(status);
    m.put("seconds", seconds);
    Path dir = Files.createDirectories(run.resolve(table));
    Files.writeString(dir.resolve("_manifest.json"), m.toJson());
  }
}
