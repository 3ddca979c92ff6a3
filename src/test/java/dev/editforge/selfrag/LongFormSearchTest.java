package dev.editforge.selfrag;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.llm.Completion;
import dev.editforge.llm.FinishReason;
import dev.editforge.llm.GenerationRequest;
import dev.editforge.llm.GenerationResult;
import dev.editforge.llm.LogprobGenerator;
import dev.editforge.llm.LogprobRequest;
import dev.editforge.llm.LogprobResult;
import dev.editforge.llm.TokenLogprobs;
import java.util.ArrayList;
import java.util.EnumSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The beam search's depth, scores and as-written quirks on an in-memory scripted model. */
class LongFormSearchTest {
  /** Every evidence prompt: [Relevant] "seg" [Fully supported] [Utility:5] [Retrieval]. */
  static final class Scripted implements LogprobGenerator {
    final List<String> prompts = new ArrayList<>();

    @Override
    public List<LogprobResult> generateWithLogprobs(
        List<GenerationRequest> requests, LogprobRequest what) {
      List<LogprobResult> out = new ArrayList<>();
      for (GenerationRequest r : requests) {
        prompts.add(r.prompt());
        List<TokenLogprobs.Step> steps =
            List.of(
                step("[Relevant]", Map.of("[Relevant]", 1.0)),
                step("seg", Map.of()),
                step("[Fully supported]", Map.of("[Fully supported]", 1.0)),
                step("[Utility:5]", Map.of("[Utility:5]", 1.0)),
                step("[Retrieval]", Map.of("[Retrieval]", 1.0)));
        out.add(
            new LogprobResult(
                r.id(),
                new Completion("seg", List.of(), FinishReason.STOP, 5),
                new TokenLogprobs(steps),
                null));
      }
      return out;
    }

    static TokenLogprobs.Step step(String token, Map<String, Double> probs) {
      java.util.HashMap<String, Double> lp = new java.util.HashMap<>();
      probs.forEach((k, v) -> lp.put(k, Math.log(v)));
      return new TokenLogprobs.Step(-1, token, 0.0, lp);
    }

    @Override
    public List<GenerationResult> generate(List<GenerationRequest> requests) {
      throw new UnsupportedOperationException();
    }

    @Override
    public String modelName() {
      return "scripted";
    }

    @Override
    public void close() {}
  }

  static SelfRagOptions options(Set<Quirk> quirks) {
    SelfRagOptions d = SelfRagOptions.defaults();
    return new SelfRagOptions(2, d.threshold(), 8, 5, d.weights(), quirks, 2, 6, 8);
  }

  static final SelfRagQuestion Q =
      new SelfRagQuestion(
          "q",
          "Tell me about X.",
          List.of(
              new SelfRagQuestion.Passage("p1", "T1", "one"),
              new SelfRagQuestion.Passage("p2", "T2", "two")));

  @Test
  void intendedSearchGoesToMaxDepthMinusOneAndMultipliesStepScores() {
    Scripted gen = new Scripted();
    LongFormSearch.LongAnswer a =
        new LongFormSearch(gen, options(Set.of())).answer(Q, RetrievalMode.ALWAYS);
    assertEquals(5, a.depth());
    assertEquals(5, a.segments().size());
    // Step score: relevance 1 + groundness 1 + 0.5 * utility 1 = 2.5, multiplied down the path.
    assertEquals(Math.pow(2.5, 5), a.score(), 1e-9);
    assertEquals("seg seg seg seg seg", a.answer());
    assertEquals("p1", a.segments().get(0).passageId(), "ties keep the first passage");
    // Level 1: 2 passages; levels 2-5: 2 beams x 2 passages.
    assertEquals(2 + 4 * 4, gen.prompts.size());
    assertTrue(gen.prompts.get(gen.prompts.size() - 1).contains("seg seg seg seg[Retrieval]"));
  }

  @Test
  void asWrittenTextContinuationStopsAtDepthOneAndUtilityIsZero() {
    Scripted gen = new Scripted();
    LongFormSearch.LongAnswer a =
        new LongFormSearch(gen, options(EnumSet.of(Quirk.TEXT_CONTINUATION, Quirk.UTILITY_ZERO)))
            .answer(Q, RetrievalMode.ALWAYS);
    assertEquals(1, a.depth(), "the skipped special tokens never show [Retrieval] in the text");
    assertEquals(2.0, a.score(), 1e-9);
    assertEquals(2, gen.prompts.size());
  }
}
