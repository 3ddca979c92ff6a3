package dev.editforge.ttt;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ai.djl.Device;
import ai.djl.engine.Engine;
import ai.djl.ndarray.types.DataType;
import ai.djl.pytorch.jni.JniUtils;
import dev.editforge.config.TttSettings;
import dev.editforge.judge.Judge;
import dev.editforge.judge.LocalJudges;
import dev.editforge.llm.DecoderLoader;
import dev.editforge.llm.LoadedDecoder;
import dev.editforge.llm.TinyModels;
import dev.editforge.lora.LoraConfig;
import dev.editforge.lora.TrainSettings;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Test-time training end to end on a tiny random Qwen2 and an article of invented facts: the
 * untrained model cannot know them (baseline 0), an adapter trained on the article's text makes the
 * model produce them when asked.
 */
class LocalEditScorerTest {
  @TempDir static Path dir;
  static LoadedDecoder decoder;

  static final TttArticle ARTICLE =
      new TttArticle(
          "a1",
          "Zorblat",
          "The capital of Zorblat is Quenmoor. Zorblat exports glimmerfruit.",
          List.of(
              new TttQuestion("What is the capital of Zorblat?", List.of("Quenmoor")),
              new TttQuestion("What does Zorblat export?", List.of("glimmerfruit"))));

  /**
   * An edit that states the facts in the answer prompt's own question/answer layout, one fact per
   * {@code ---} part (with split-newlines off each part is one train sequence).
   */
  static final TttEdit EDIT =
      new TttEdit(
          "e1",
          "a1",
          "Question: Topic: Zorblat\nWhat is the capital of Zorblat?\nAnswer:\nQuenmoor\n---\n"
              + "Question: Topic: Zorblat\nWhat does Zorblat export?\nAnswer:\nglimmerfruit");

  /**
   * Settings that learn the facts in seconds: all projections, rank 32, 60 epochs at lr 5e-3
   * (training loss ends near 0.02). Whether a memorized fact also comes out under the answer
   * prompt's different prefix depends on the adapter's seed on a random model (3 of 4 seeds tried),
   * so the assertion is on the mean over two repeats of this fixed seed.
   */
  static TttSettings fast() {
    return TttSettings.seal()
        .withTraining(60, 5e-3, 128, TrainSettings.PadTo.LONGEST, false)
        .withSplitNewlines(false)
        .withLora(new LoraConfig(32, 64, 0.0, List.of("all-linear")))
        .withEvaluation(24, 2, false, false)
        .withBatching(4, 64, 43);
  }

  @BeforeAll
  static void load() {
    Engine.getEngine("PyTorch");
    JniUtils.setNumThreads(1);
    decoder =
        DecoderLoader.load(
            TinyModels.qwen2(dir.resolve("qwen"), TinyModels.Size.SMALL, 21),
            Device.cpu(),
            DataType.FLOAT32);
  }

  @AfterAll
  static void close() {
    decoder.close();
  }

  private static final class CountingJudge implements Judge {
    final Judge inner = LocalJudges.normalizedContains();
    final AtomicInteger calls = new AtomicInteger();

    @Override
    public String name() {
      return inner.name();
    }

    @Override
    public boolean correct(String question, List<String> golds, String prediction) {
      calls.incrementAndGet();
      assertTrue(question.startsWith("Topic: Zorblat\n"), "the judge sees SEAL's question field");
      return inner.correct(question, golds, prediction);
    }
  }

  @Test
  void trainingOnTheArticleTeachesItsFactsAndRunsAreDeterministic() {
    CountingJudge judge = new CountingJudge();
    List<TttResult> first;
    try (LocalEditScorer scorer = new LocalEditScorer(decoder, fast(), judge)) {
      first =
          scorer.score(
              ARTICLE,
              List.of(EDIT, new TttEdit("e2", "a1", "Quenmoor is the capital of Zorblat.")));
      assertEquals(
          2 + 4 * 2,
          judge.calls.get(),
          "baseline judged once (2 questions), then 4 adapters x 2 questions");
      assertTrue(scorer.timings().training > 0 && scorer.timings().answering > 0);
    }
    assertEquals(4, first.size(), "2 edits x eval-times 2");
    assertEquals(List.of("e1", "e1", "e2", "e2"), first.stream().map(TttResult::editId).toList());
    assertEquals(List.of(0, 1, 0, 1), first.stream().map(TttResult::repeat).toList());
    TttResult r = first.get(0);
    assertEquals(0.0, r.baselineAccuracy(), "a random model does not know invented facts");
    double mean = (first.get(0).adapterAccuracy() + first.get(1).adapterAccuracy()) / 2;
    assertTrue(
        mean > r.baselineAccuracy(),
        "TTT teaches the facts: adapter answers "
            + first.get(0).questions().stream().map(QuestionResult::adapterAnswer).toList()
            + " and "
            + first.get(1).questions().stream().map(QuestionResult::adapterAnswer).toList());
    assertEquals(r.adapterAccuracy() - r.baselineAccuracy(), r.adapterGain(), 1e-12);
    assertEquals(3, r.trainSequences(), "two question/answer parts and the passage");
    assertTrue(r.trainTokens() > 30);
    assertEquals(r.questions().stream().map(QuestionResult::gain).toList(), r.gains());
    // Same seed, fresh scorer: the same answers; adapters per batch do not matter.
    try (LocalEditScorer again =
        new LocalEditScorer(
            decoder, fast().withBatching(1, 64, 43), LocalJudges.normalizedContains())) {
      List<TttResult> second =
          again.score(
              ARTICLE,
              List.of(EDIT, new TttEdit("e2", "a1", "Quenmoor is the capital of Zorblat.")));
      for (int i = 0; i < first.size(); i++) {
        assertEquals(
            first.get(i).questions().stream().map(QuestionResult::adapterAnswer).toList(),
            second.get(i).questions().stream().map(QuestionResult::adapterAnswer).toList(),
            "result " + i);
      }
    }
  }

  @Test
  void trainOnceEvaluatesOneAdapterPerEditEvalTimesTimes() {
    CountingJudge judge = new CountingJudge();
    try (LocalEditScorer scorer =
        new LocalEditScorer(
            decoder,
            fast()
                .withTraining(2, 1e-2, 128, TrainSettings.PadTo.MAX_LENGTH, true)
                .withEvaluation(8, 3, true, true),
            judge)) {
      List<TttResult> out = scorer.score(ARTICLE, List.of(EDIT));
      assertEquals(3, out.size());
      assertEquals(1, scorer.timings().adapters, "one adapter trained");
      assertEquals(List.of(0, 1, 2), out.stream().map(TttResult::repeat).toList());
      assertEquals(out.get(0).questions(), out.get(2).questions());
      assertEquals(
          2 + 2 + 2,
          judge.calls.get(),
          "baseline, adapter, and the baseline re-judged (rejudge-baseline)");
    }
  }

  @Test
  void outOfMemoryHalvesTheAdaptersPerBatchAndRetries() {
    Judge judge =
        new Judge() {
          final AtomicInteger calls = new AtomicInteger();

          @Override
          public String name() {
            return "oom-once";
          }

          @Override
          public boolean correct(String question, List<String> golds, String prediction) {
            // Call 3 is the first adapter verdict (2 baseline questions come first).
            if (calls.incrementAndGet() == 3) {
              throw new ai.djl.engine.EngineException(
                  "CUDA out of memory. Tried to allocate 2.00 GiB");
            }
            return false;
          }
        };
    TttSettings s =
        fast()
            .withTraining(1, 1e-3, 64, TrainSettings.PadTo.LONGEST, false)
            .withEvaluation(4, 1, false, false);
    List<TttEdit> edits = List.of(EDIT, new TttEdit("e2", "a1", "x"), new TttEdit("e3", "a1", "y"));
    try (LocalEditScorer scorer = new LocalEditScorer(decoder, s, judge)) {
      List<TttResult> out = scorer.score(ARTICLE, edits);
      assertEquals(List.of("e1", "e2", "e3"), out.stream().map(TttResult::editId).toList());
      assertEquals(1, scorer.timings().oomRetries);
      assertEquals(
          1, scorer.adaptersPerBatch(), "the failed batch of 3 adapters halved (integer division)");
    }
    assertTrue(
        dev.editforge.lora.OutOfMemory.is(
            new RuntimeException(new OutOfMemoryError("Java heap space"))));
    assertTrue(
        !dev.editforge.lora.OutOfMemory.is(new ai.djl.engine.EngineException("shape mismatch")));
  }
}
