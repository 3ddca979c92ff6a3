package dev.editforge.finetune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import dev.editforge.CliRun;
import dev.editforge.llm.DecoderInput;
import dev.editforge.llm.DecoderLayout;
import dev.editforge.llm.DecoderLoader;
import dev.editforge.llm.GenerationRequest;
import dev.editforge.llm.LlmSettings;
import dev.editforge.llm.LlmTokenizer;
import dev.editforge.llm.LoadedDecoder;
import dev.editforge.llm.LocalGenerator;
import dev.editforge.llm.SamplingParams;
import dev.editforge.selfrag.ReflectionTokens;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Issue 12's done-when for training with added tokens: a tiny random model fine-tuned with
 * Self-RAG's 15 reflection tokens added learns to emit {@code [Retrieval]} after instructions that
 * need retrieval (the loss on that token falls and greedy output, decoded with special tokens kept,
 * contains it), while the old embedding rows stay as they were.
 */
class SelfRagTokenTrainingTest {
  @TempDir static Path dir;

  static String needsRetrieval(String place) {
    return SelfRagTrainedModel.needsRetrieval(place);
  }

  static String noRetrieval(String topic) {
    return SelfRagTrainedModel.noRetrieval(topic);
  }

  /** -log p(token | prompt) under the model in {@code modelDir}. */
  static double tokenLoss(Path modelDir, String prompt, String token) {
    try (LoadedDecoder dec = DecoderLoader.load(modelDir, Device.cpu(), DataType.FLOAT32);
        NDManager m = NDManager.newBaseManager(Device.cpu(), "PyTorch")) {
      LlmTokenizer tok = dec.tokenizer();
      int[] ids = tok.encode(prompt, true);
      long[] in = new long[ids.length];
      for (int i = 0; i < ids.length; i++) {
        in[i] = ids[i];
      }
      NDArray logits =
          dec.model()
              .forward(
                  DecoderInput.training(m.create(in, new Shape(1, in.length)), null)
                      .lastPositionOnly(true));
      float[] logProbs = logits.logSoftmax(2).toFloatArray();
      return -logProbs[tok.specialTokenId(token)];
    }
  }

  static String greedy(Path modelDir, String prompt, boolean skipSpecial) {
    try (LocalGenerator g =
        new LocalGenerator(
            DecoderLoader.load(modelDir, Device.cpu(), DataType.FLOAT32),
            LlmSettings.defaults(),
            true)) {
      SamplingParams s = SamplingParams.greedy(6).withSkipSpecialTokens(skipSpecial);
      return g.generate(List.of(GenerationRequest.text("q", prompt, s)))
          .get(0)
          .completions()
          .get(0)
          .text();
    }
  }

  static FinetuneRunner.Result trained() throws Exception {
    return SelfRagTrainedModel.result();
  }

  @Test
  void aTinyModelLearnsToEmitRetrievalAfterInstructionsThatNeedIt() throws Exception {
    FinetuneRunner.Result r = trained();
    assertEquals(15, r.addedTokens());
    assertEquals(0, r.allMaskedRows());
    assertTrue(
        r.lastTrainLoss() < r.firstTrainLoss(), r.firstTrainLoss() + " -> " + r.lastTrainLoss());

    // The base with the tokens added, as training started from it.
    Path merged = SelfRagTrainedModel.merged();
    AddedTokenModel.Prepared before =
        AddedTokenModel.prepare(
            SelfRagTrainedModel.base(),
            dir.resolve("before"),
            ReflectionTokens.ALL,
            0,
            AddedTokenModel.Init.MEAN,
            3);
    String unseen = needsRetrieval("Turin");
    double lossBefore = tokenLoss(before.dir(), unseen, ReflectionTokens.RETRIEVAL);
    double lossAfter = tokenLoss(merged, unseen, ReflectionTokens.RETRIEVAL);
    assertTrue(
        lossAfter < 0.5 && lossAfter < lossBefore - 1.0,
        "loss on [Retrieval] after an unseen retrieval instruction: "
            + lossBefore
            + " -> "
            + lossAfter);

    String kept = greedy(merged, unseen, false);
    assertTrue(kept.startsWith(ReflectionTokens.RETRIEVAL + "<paragraph>"), kept);
    assertFalse(greedy(merged, unseen, true).contains("[Retrieval]"), "skipped by default");
    String poem = greedy(merged, noRetrieval("the moon"), false);
    assertTrue(poem.startsWith(ReflectionTokens.NO_RETRIEVAL), poem);

    // Old rows stayed frozen, the added ones were trained.
    try (LoadedDecoder base = DecoderLoader.load(before.dir(), Device.cpu(), DataType.FLOAT32);
        LoadedDecoder tuned = DecoderLoader.load(merged, Device.cpu(), DataType.FLOAT32)) {
      int h = base.model().config().hiddenSize();
      float[] b = base.model().weight(DecoderLayout.EMBED).toFloatArray();
      float[] t = tuned.model().weight(DecoderLayout.EMBED).toFloatArray();
      for (int i = 0; i < before.start() * h; i++) {
        assertEquals(b[i], t[i], 0f, "old embedding rows are frozen");
      }
      int retrieval = before.start() + 1;
      double moved = 0;
      for (int c = 0; c < h; c++) {
        moved += Math.abs(b[retrieval * h + c] - t[retrieval * h + c]);
      }
      assertTrue(moved > 1e-3, "the [Retrieval] row was trained");
    }
    // the adapter directory carries the tokenizer with the added tokens
    try (LlmTokenizer t = LlmTokenizer.load(SelfRagTrainedModel.adapter())) {
      assertEquals(before.start() + 1, t.specialTokenId("[Retrieval]"));
    }
  }

  @Test
  void generateTextPrintsSpecialTokensOnlyWhenAskedTo() throws Exception {
    Path merged = SelfRagTrainedModel.merged();
    String unseen = needsRetrieval("Turin");
    String[] args = {
      "generate-text", "--model", merged.toString(), "--prompt", unseen, "--max-new-tokens", "4"
    };
    CliRun kept = CliRun.of(concat(args, "--keep-special-tokens"));
    assertEquals(0, kept.exitCode(), kept.toString());
    assertTrue(kept.out().contains(unseen + "[Retrieval]<paragraph>"), kept.toString());
    CliRun skipped = CliRun.of(args);
    assertEquals(0, skipped.exitCode(), skipped.toString());
    assertFalse(skipped.out().contains("[Retrieval]"), skipped.toString());
  }

  static String[] concat(String[] a, String b) {
    String[] out = java.util.Arrays.copyOf(a, a.length + 1);
    out[a.length] = b;
    return out;
  }
}
