package dev.editforge.generate;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.llm.Completion;
import dev.editforge.llm.FinishReason;
import dev.editforge.llm.GenerationRequest;
import dev.editforge.llm.GenerationResult;
import dev.editforge.llm.SamplingParams;
import dev.editforge.llm.TextGenerator;
import java.util.ArrayList;
import java.util.List;
import java.util.function.Function;
import org.junit.jupiter.api.Test;

/** Out-of-memory halving and empty-completion retries, with a fake generator. */
class BatchRunnerTest {
  /**
   * Answers each request with {@code text(request)}; throws CUDA's OOM message above {@code
   * maxBatch}.
   */
  static final class Fake implements TextGenerator {
    final int maxBatch;
    final Function<GenerationRequest, String> text;
    final List<Integer> batchSizes = new ArrayList<>();
    final List<Long> seeds = new ArrayList<>();

    Fake(int maxBatch, Function<GenerationRequest, String> text) {
      this.maxBatch = maxBatch;
      this.text = text;
    }

    @Override
    public List<GenerationResult> generate(List<GenerationRequest> requests) {
      batchSizes.add(requests.size());
      if (requests.size() > maxBatch) {
        throw new RuntimeException("CUDA out of memory. Tried to allocate 2.00 GiB");
      }
      List<GenerationResult> out = new ArrayList<>();
      for (GenerationRequest r : requests) {
        seeds.add(r.sampling().seed());
        String t =
            text.apply(
                r.isChat()
                    ? GenerationRequest.text(
                        r.id(),
                        "chat:" + r.messages().get(0).role() + ":" + r.messages().get(0).content(),
                        r.sampling())
                    : r);
        out.add(
            t == null
                ? GenerationResult.failed(r.id(), "boom")
                : new GenerationResult(
                    r.id(),
                    List.of(new Completion(t, List.of(1, 2), FinishReason.STOP, 2)),
                    5,
                    null));
      }
      return out;
    }

    @Override
    public String modelName() {
      return "fake";
    }

    @Override
    public void close() {}
  }

  static List<BatchRunner.Job> jobs(int n) {
    List<BatchRunner.Job> jobs = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      jobs.add(
          new BatchRunner.Job(
              "j" + i,
              "prompt " + i,
              new SamplingParams(8, 1.0, 0.95, 0, 1, List.of(), List.of(), 100 + i)));
    }
    return jobs;
  }

  @Test
  void outOfMemoryHalvesTheBatchUntilItFits() {
    Fake fake = new Fake(2, r -> "done " + r.prompt());
    BatchRunner runner = new BatchRunner(fake, false, 0);
    List<BatchRunner.Outcome> out = runner.run(jobs(8));
    assertEquals(List.of(8, 4, 2, 2, 4, 2, 2), fake.batchSizes);
    for (int i = 0; i < 8; i++) {
      assertEquals("done prompt " + i, out.get(i).text());
      assertNull(out.get(i).error());
      assertEquals(100 + i, out.get(i).seed());
    }
    assertEquals(3, runner.stats().oomSplits);
    assertEquals(16, runner.stats().completionTokens);
  }

  @Test
  void oneRequestThatStillDoesNotFitFailsAloneAndAFailedRequestIsAnErrorOutcome() {
    Fake fake = new Fake(0, r -> "x");
    List<BatchRunner.Outcome> out = new BatchRunner(fake, false, 0).run(jobs(2));
    assertTrue(
        out.get(0).error().startsWith("out of memory even for a single request"), out.toString());
    Fake failing = new Fake(10, r -> r.prompt().endsWith("1") ? null : "ok");
    List<BatchRunner.Outcome> mixed = new BatchRunner(failing, false, 0).run(jobs(2));
    assertEquals("ok", mixed.get(0).text());
    assertEquals("boom", mixed.get(1).error());
  }

  @Test
  void blankCompletionsAreRetriedWithDerivedSeedsThenReported() {
    long lucky = BatchRunner.attemptSeed(101, 1);
    // Job 0 is always blank; job 1 is blank until its first retry seed.
    Fake fake =
        new Fake(
            10,
            r ->
                !r.prompt().startsWith("chat:user:prompt ")
                    ? "not a user message"
                    : r.prompt().endsWith("0")
                        ? " \n"
                        : r.sampling().seed() == lucky ? "finally" : "");
    BatchRunner runner = new BatchRunner(fake, true, 2);
    List<BatchRunner.Outcome> out = runner.run(jobs(2));
    assertEquals("finally", out.get(1).text());
    assertEquals(lucky, out.get(1).seed());
    assertEquals(2, out.get(1).attempts());
    assertTrue(
        out.get(0).error().contains("empty completion after 3 attempts"), out.get(0).toString());
    assertEquals(BatchRunner.attemptSeed(100, 2), out.get(0).seed());
    assertEquals(
        List.of(
            100L, 101L, BatchRunner.attemptSeed(100, 1), lucky, BatchRunner.attemptSeed(100, 2)),
        fake.seeds);
    assertEquals(3, runner.stats().emptyRetries);
  }
}
