package dev.editforge.finetune;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.jni.JniUtils;
import dev.editforge.io.SftRow;
import dev.editforge.io.SftSource;
import dev.editforge.llm.ChatTemplate;
import dev.editforge.llm.DecoderLoader;
import dev.editforge.llm.LoadedDecoder;
import dev.editforge.llm.TinyModels;
import dev.editforge.lora.Batching;
import dev.editforge.lora.TokenizedSample;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SftTokenizerAndLossTest {
  @TempDir static Path dir;
  static LoadedDecoder qwen;
  static LoadedDecoder llama;

  @BeforeAll
  static void load() {
    Engine.getEngine("PyTorch");
    JniUtils.setNumThreads(1);
    qwen =
        DecoderLoader.load(
            TinyModels.qwen2(dir.resolve("qwen"), TinyModels.Size.TINY, 5),
            Device.cpu(),
            DataType.FLOAT32);
    llama =
        DecoderLoader.load(
            TinyModels.llama(dir.resolve("llama"), TinyModels.Size.TINY, 6),
            Device.cpu(),
            DataType.FLOAT32);
  }

  @AfterAll
  static void close() {
    qwen.close();
    llama.close();
  }

  static SftRow row(String prompt, String completion) {
    return SftRow.exchange(prompt, completion, SftSource.SELF_EDIT, "e1", 0.5);
  }

  @Test
  void modelTemplateMasksThePromptAndTrainsOnTheAssistantTurn() {
    ChatTemplate t = qwen.chatTemplate("model");
    SftTokenizer tok = new SftTokenizer(qwen.tokenizer(), t, true);
    SftRow r = row("the theory of heat", "heat is energy in transit");
    SftTokenizer.Text text = tok.text(r);
    assertTrue(text.prompt().endsWith("<|im_start|>assistant\n"), text.prompt());
    assertEquals("heat is energy in transit<|im_end|>\n", text.completion());
    TokenizedSample s = tok.tokenize(r);
    int prompt = qwen.tokenizer().encode(text.prompt(), false).length;
    for (int i = 0; i < s.length(); i++) {
      assertEquals(i < prompt ? TokenizedSample.IGNORE : s.inputIds()[i], s.labels()[i]);
    }
    assertEquals(text.prompt() + text.completion(), qwen.tokenizer().decode(s.inputIds(), false));
    // full-sequence loss: every token is a label
    TokenizedSample full = new SftTokenizer(qwen.tokenizer(), t, false).tokenize(r);
    assertArrayEquals(full.inputIds(), full.labels());
  }

  @Test
  void builtInTemplateForABaseModelAndRawPromptCompletionWithEos() {
    SftTokenizer alpaca = new SftTokenizer(llama.tokenizer(), llama.chatTemplate("alpaca"), true);
    SftTokenizer.Text text = alpaca.text(row("Name a gas.", "Neon."));
    assertTrue(
        text.prompt().endsWith("### Instruction:\nName a gas.\n\n### Response:\n"), text.prompt());
    assertEquals("Neon.\n\n", text.completion());

    SftTokenizer raw = new SftTokenizer(llama.tokenizer(), null, true);
    TokenizedSample s = raw.tokenize(row("Name a gas.", " Neon."));
    int[] prompt = llama.tokenizer().encode("Name a gas.", true);
    assertEquals(
        llama.tokenizer().bosTokenId() >= 0 ? prompt[0] : s.inputIds()[0], s.inputIds()[0]);
    assertEquals(
        llama.tokenizer().eosTokenId(),
        s.inputIds()[s.length() - 1],
        "TRL appends EOS to the completion");
    assertEquals(TokenizedSample.IGNORE, s.labels()[prompt.length - 1]);
    assertEquals(s.inputIds()[prompt.length], s.labels()[prompt.length]);
  }

  /**
   * Per-sample summed loss of every sample in a batch of rows, keyed by a hash of the sample's ids.
   */
  static List<double[]> perSampleLoss(LoadedDecoder d, List<Batching.Row> rows) {
    Batching.Batch b = Batching.batch(rows, 0);
    List<double[]> out = new ArrayList<>();
    try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
      NDArray logits = d.model().forward(CausalLm.input(m, b, null));
      float[] losses = CausalLm.tokenLosses(logits, b).toFloatArray();
      int t = b.time();
      for (int r = 0; r < b.rows(); r++) {
        int start = 0;
        for (int i = 1; i <= t; i++) {
          boolean boundary =
              i == t
                  || b.attention()[r * t + i] == 0
                  || (b.segmentIds() != null
                      && b.segmentIds()[r * t + i] != b.segmentIds()[r * t + i - 1]);
          if (boundary) {
            if (b.attention()[r * t + start] == 1) {
              double sum = 0;
              for (int k = start + 1; k < i; k++) {
                sum += losses[r * (t - 1) + k - 1];
              }
              long[] ids = Arrays.copyOfRange(b.inputIds(), r * t + start, r * t + i);
              out.add(new double[] {Arrays.hashCode(ids), sum});
            }
            if (i < t && b.attention()[r * t + i] == 0) {
              break;
            }
            start = i;
          }
        }
      }
    }
    return out;
  }

  @Test
  void bfdPackedBatchGivesEachSampleTheLossItHasAlone() {
    SftTokenizer tok = new SftTokenizer(qwen.tokenizer(), qwen.chatTemplate("model"), true);
    List<TokenizedSample> samples =
        tok.tokenize(
            List.of(
                row("What melts ice?", "heat"),
                row("Who wrote Hamlet, the play?", "Shakespeare wrote it around 1600"),
                row("2+2", "4"),
                row("Where is the Louvre?", "in Paris, on the right bank of the Seine")));
    int longest = samples.stream().mapToInt(TokenizedSample::length).max().orElseThrow();
    int total = samples.stream().mapToInt(TokenizedSample::length).sum();
    Batching.Plan bfd = Batching.plan(samples, Batching.Mode.BFD, Math.max(longest, total / 2 + 1));
    assertTrue(bfd.rows().size() < samples.size(), "some samples share a row");
    List<double[]> packed = perSampleLoss(qwen, bfd.rows());
    List<double[]> alone =
        perSampleLoss(qwen, Batching.plan(samples, Batching.Mode.PADDING, 4096).rows());
    assertEquals(samples.size(), packed.size());
    packed.sort((a, b) -> Double.compare(a[0], b[0]));
    alone.sort((a, b) -> Double.compare(a[0], b[0]));
    for (int i = 0; i < alone.size(); i++) {
      assertEquals(
          alone.get(i)[1],
          packed.get(i)[1],
          1e-3 * Math.max(1, Math.abs(alone.get(i)[1])),
          "sample "
              + i
              + ": packed "
              + Arrays.toString(packed.get(i))
              + " alone "
              + Arrays.toString(alone.get(i)));
      assertTrue(alone.get(i)[1] > 0);
    }
    // concat packs the same samples without confinement: some sample's loss changes
    List<double[]> leaky = perSampleLossConcat(samples, Math.max(longest, total / 2 + 1));
    double diff = 0;
    for (int i = 0; i < leaky.size(); i++) {
      diff += Math.abs(leaky.get(i)[1]);
    }
    double base = alone.stream().mapToDouble(a -> a[1]).sum();
    assertTrue(
        Math.abs(diff - base) > 1e-3,
        "without the block mask and position reset the losses differ");
  }

  private static List<double[]> perSampleLossConcat(List<TokenizedSample> samples, int max) {
    Batching.Batch b = Batching.batch(Batching.plan(samples, Batching.Mode.CONCAT, max).rows(), 0);
    try (NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
      NDArray logits = qwen.model().forward(CausalLm.input(m, b, null));
      float sum = CausalLm.tokenLosses(logits, b).sum().getFloat();
      return List.<double[]>of(new double[] {0, sum});
    }
  }
}
