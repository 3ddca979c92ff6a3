package dev.editforge.finetune;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.NDArray;
import ai.djl.ndarray.NDManager;
import ai.djl.ndarray.types.DataType;
import ai.djl.ndarray.types.Shape;
import ai.djl.pytorch.jni.JniUtils;
import dev.editforge.CliRun;
import dev.editforge.config.FinetuneSettings;
import dev.editforge.io.SftRow;
import dev.editforge.io.SftSource;
import dev.editforge.llm.DecoderInput;
import dev.editforge.llm.DecoderLayout;
import dev.editforge.llm.DecoderLoader;
import dev.editforge.llm.GenerationRequest;
import dev.editforge.llm.LlmSettings;
import dev.editforge.llm.LlmTokenizer;
import dev.editforge.llm.LoadedDecoder;
import dev.editforge.llm.LocalGenerator;
import dev.editforge.llm.SamplingParams;
import dev.editforge.llm.TinyModels;
import dev.editforge.selfrag.ReflectionTokens;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.junit.jupiter.api.BeforeAll;
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
  static Path model;

  static final String[] PLACES = {
    "Paris", "Rome", "Oslo", "Lima", "Cairo", "Delhi", "Quito", "Hanoi", "Accra", "Seoul", "Dakar",
    "Perth"
  };
  static final String[] TOPICS = {
    "rain", "snow", "love", "time", "the sea", "a cat", "spring", "night", "bread", "a song"
  };

  @BeforeAll
  static void setUp() {
    Engine.getEngine("PyTorch");
    JniUtils.setNumThreads(1);
    model = TinyModels.qwen2(dir.resolve("model"), TinyModels.Size.TINY, 12);
  }

  static String needsRetrieval(String place) {
    return "Who founded " + place + "? ";
  }

  static String noRetrieval(String topic) {
    return "Write a poem about " + topic + ". ";
  }

  static List<SftRow> rows() {
    List<SftRow> out = new ArrayList<>();
    for (String p : PLACES) {
      out.add(
          SftRow.exchange(
              needsRetrieval(p),
              "[Retrieval]<paragraph>"
                  + p
                  + " is an old city by a river.</paragraph>[Relevant]A king.[Fully supported][Utility:5]",
              SftSource.SELF_EDIT,
              "r-" + p,
              1.0));
    }
    for (String t : TOPICS) {
      out.add(
          SftRow.exchange(
              noRetrieval(t),
              "[No Retrieval]Soft words.[Utility:4]",
              SftSource.SELF_EDIT,
              "n-" + t,
              1.0));
    }
    return out;
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

  /** The fine-tune both tests read, run once (by whichever test comes first). */
  static synchronized FinetuneRunner.Result trained() throws Exception {
    if (result == null) {
      FinetuneSettings s =
          FinetuneRunnerTest.settings(
              "added-tokens = [selfrag], chat-template = none, max-steps = 40, batch-size = 4,"
                  + " learning-rate = 0.01, eval-fraction = 0, checkpoint-every = 1000,"
                  + " warmup-steps = 2, max-length = 128,"
                  + " lora { rank = 8, alpha = 16, dropout = 0.0 }, seed = 3");
      Path work = dir.resolve("run");
      Files.createDirectories(work.resolve("out"));
      CheckpointStore store =
          new CheckpointStore(
              new org.apache.hadoop.fs.Path(work.resolve("ckpt").toUri()), new Configuration());
      result =
          new FinetuneRunner(s, m -> {})
              .run(
                  rows(),
                  model,
                  "tiny-qwen",
                  Device.cpu(),
                  store,
                  work.resolve("out"),
                  (a, b) -> {});
      merged = work.resolve("out/merged");
    }
    return result;
  }

  static FinetuneRunner.Result result;
  static Path merged;

  @Test
  void aTinyModelLearnsToEmitRetrievalAfterInstructionsThatNeedIt() throws Exception {
    FinetuneRunner.Result r = trained();
    assertEquals(15, r.addedTokens());
    assertEquals(0, r.allMaskedRows());
    assertTrue(
        r.lastTrainLoss() < r.firstTrainLoss(), r.firstTrainLoss() + " -> " + r.lastTrainLoss());

    // The base with the tokens added, as training started from it.
    AddedTokenModel.Prepared before =
        AddedTokenModel.prepare(
            model, dir.resolve("before"), ReflectionTokens.ALL, 0, AddedTokenModel.Init.MEAN, 3);
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
    try (LlmTokenizer t = LlmTokenizer.load(dir.resolve("run/out/adapter"))) {
      assertEquals(before.start() + 1, t.specialTokenId("[Retrieval]"));
    }
  }

  @Test
  void generateTextPrintsSpecialTokensOnlyWhenAskedTo() throws Exception {
    trained();
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
