package dev.editforge.selfrag;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.editforge.llm.TokenLogprobs;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** Self-RAG's scoring arithmetic against values computed by hand from fixed probabilities. */
class CritiqueScoreTest {
  private static final double EPS = 1e-9;

  static TokenLogprobs.Step step(String token, double p, Map<String, Double> probs) {
    java.util.HashMap<String, Double> lp = new java.util.HashMap<>();
    probs.forEach((k, v) -> lp.put(k, Math.log(v)));
    return new TokenLogprobs.Step(-1, token, Math.log(p), lp);
  }

  /**
   * [Relevant] Paris [Partially supported] [Utility:4]: relevance 0.6 / (0.6 + 0.2) = 0.75; support
   * normalized (0.25, 0.15, 0.10) / 0.5 -> 0.5 + 0.5 * 0.3 = 0.65; utility normalized (0.05, 0.05,
   * 0.1, 0.2, 0.1) / 0.5 -> -0.1 - 0.05 + 0 + 0.2 + 0.2 = 0.25; seq = mean of ln 0.6, ln 0.5, ln
   * 0.15, ln 0.2 -> exp(seq) = 0.009^(1/4).
   */
  static TokenLogprobs candidate() {
    return new TokenLogprobs(
        List.of(
            step("[Relevant]", 0.6, Map.of("[Relevant]", 0.6, "[Irrelevant]", 0.2)),
            step("Paris", 0.5, Map.of("Paris", 0.5)),
            step(
                "[Partially supported]",
                0.15,
                Map.of(
                    "[Fully supported]", 0.25,
                    "[Partially supported]", 0.15,
                    "[No support / Contradictory]", 0.10)),
            step(
                "[Utility:4]",
                0.2,
                Map.of(
                    "[Utility:1]", 0.05,
                    "[Utility:2]", 0.05,
                    "[Utility:3]", 0.1,
                    "[Utility:4]", 0.2,
                    "[Utility:5]", 0.1))));
  }

  @Test
  void shortFormScoreIsTheWeightedSumOfHandComputedParts() {
    CritiqueScore s = CritiqueScore.of(candidate(), CritiqueWeights.shortFormDefaults());
    assertEquals(0.75, s.relevance(), EPS);
    assertEquals(0.65, s.groundness(), EPS);
    assertEquals(0.25, s.utility(), EPS);
    assertEquals(Math.log(0.009) / 4, s.seq(), EPS);
    double seq = Math.pow(0.009, 0.25); // 0.308007...
    assertEquals(0.3080070288, seq, 1e-9);
    assertEquals(seq + 0.75 + 0.65 + 0.25, s.total(), EPS);
  }

  @Test
  void weightsAndFlagsChangeTheTotal() {
    CritiqueWeights w = new CritiqueWeights(2.0, 0.5, -1.0, false, true, false);
    assertEquals(2 * 0.75 + 0.5 * 0.65, CritiqueScore.of(candidate(), w).total(), EPS);
    CritiqueWeights noSup = new CritiqueWeights(1.0, 1.0, 1.0, false, false, true);
    CritiqueScore s = CritiqueScore.of(candidate(), noSup);
    assertEquals(0.0, s.groundness(), EPS);
    assertEquals(0.75 + 0.25, s.total(), EPS);
  }

  @Test
  void longFormUsesOneOneHalfWithoutSeqAndItsQuirks() {
    CritiqueWeights lf = CritiqueWeights.longFormDefaults();
    assertEquals(0.75 + 0.65 + 0.5 * 0.25, CritiqueScore.of(candidate(), lf).total(), EPS);
    assertEquals(
        0.75 + 0.65,
        CritiqueScore.of(candidate(), lf, Set.of(Quirk.UTILITY_ZERO)).total(),
        EPS,
        "as written the utility loop reads the support tokens: utility 0");
  }

  @Test
  void absentTokensCountAsLogprobMinus100() {
    TokenLogprobs onlyRel =
        new TokenLogprobs(List.of(step("[Relevant]", 0.6, Map.of("[Relevant]", 0.6))));
    // exp(-100) is ~3.7e-44: relevance 0.6 / (0.6 + 3.7e-44) = 1.
    assertEquals(1.0, CritiqueScore.relevance(onlyRel, false), 1e-12);
    // As written in the long-form script the absent token is -100 itself: 0.6 / (0.6 - 100).
    assertEquals(0.6 / (0.6 - 100), CritiqueScore.relevance(onlyRel, true), EPS);
    // No support or utility token generated: both 0.
    CritiqueScore s = CritiqueScore.of(onlyRel, CritiqueWeights.shortFormDefaults());
    assertEquals(0.0, s.groundness());
    assertEquals(0.0, s.utility());
    assertEquals(Math.exp(Math.log(0.6)) + 1.0, s.total(), 1e-12);
  }

  @Test
  void supportIsReadAtTheFirstGeneratedSupportTokenOnly() {
    TokenLogprobs lp =
        new TokenLogprobs(
            List.of(
                step("x", 0.5, Map.of("[Fully supported]", 0.9, "[Partially supported]", 0.1)),
                step(
                    "[Fully supported]",
                    0.5,
                    Map.of(
                        "[Fully supported]", 0.5,
                        "[Partially supported]", 0.5,
                        "[No support / Contradictory]", 1.0)),
                step("[Fully supported]", 1.0, Map.of("[Fully supported]", 1.0))));
    // (0.5 + 0.5 * 0.5) / 2.0 = 0.375: position 0 is not a generated support token.
    assertEquals(0.375, CritiqueScore.groundness(lp), EPS);
  }

  @Test
  void emptyGenerationScoresZeroExceptExpSeq() {
    CritiqueScore s =
        CritiqueScore.of(new TokenLogprobs(List.of()), CritiqueWeights.shortFormDefaults());
    assertEquals(1.0, s.total(), EPS, "exp(0 / max(0, 1)) = 1, every critique part 0");
  }

  @Test
  void adaptiveThresholdIntendedOnProbabilitiesAsWrittenOnLogprobs() {
    TokenLogprobs.Step first =
        step("[No Retrieval]", 0.8, Map.of("[Retrieval]", 0.1, "[No Retrieval]", 0.8));
    // Intended: 0.1 / (0.1 + 0.8) = 0.111 <= 0.2: answer without retrieval.
    assertEquals(0.1 / 0.9, AdaptiveRetrieval.ratio(first, false), EPS);
    assertFalse(AdaptiveRetrieval.retrieve(first, 0.2, false));
    // As written: ln 0.1 / (ln 0.1 + ln 0.8) = -2.3026 / -2.5257 = 0.9117 > 0.2: retrieves.
    assertEquals(
        Math.log(0.1) / (Math.log(0.1) + Math.log(0.8)), AdaptiveRetrieval.ratio(first, true), EPS);
    assertEquals(0.91165, AdaptiveRetrieval.ratio(first, true), 1e-5);
    assertTrue(AdaptiveRetrieval.retrieve(first, 0.2, true));
    // The more likely retrieval is, the LOWER the as-written ratio: 0.7 vs 0.2 -> 0.181 <= 0.2.
    TokenLogprobs.Step likely =
        step("[Retrieval]", 0.7, Map.of("[Retrieval]", 0.7, "[No Retrieval]", 0.2));
    assertTrue(AdaptiveRetrieval.retrieve(likely, 0.2, false));
    assertFalse(AdaptiveRetrieval.retrieve(likely, 0.2, true));
  }

  @Test
  void longFormContinuationCountsContinueWithRetrieval() {
    TokenLogprobs.Step low =
        step(
            "[No Retrieval]",
            0.8,
            Map.of("[Retrieval]", 0.1, "[Continue to Use Evidence]", 0.05, "[No Retrieval]", 0.8));
    assertFalse(AdaptiveRetrieval.continueAnyway(low, 0.2), "0.15 / 0.9 = 0.167");
    TokenLogprobs.Step high =
        step(
            "[No Retrieval]",
            0.8,
            Map.of("[Retrieval]", 0.1, "[Continue to Use Evidence]", 0.1, "[No Retrieval]", 0.8));
    assertTrue(AdaptiveRetrieval.continueAnyway(high, 0.2), "0.2 / 0.9 = 0.222");
  }

  @Test
  void postprocessStripsReflectionTokensAndMatchIsCaseSensitiveSubstring() {
    assertEquals(
        "Paris is the capital.",
        SelfRagPrompt.postprocess(
            "[Relevant]Paris is the capital.[Fully supported][Utility:5]</s>"));
    assertEquals("true", SelfRagPrompt.postprocess(": SUPPORTS"));
    assertEquals("x", SelfRagPrompt.postprocess("[Continue to Use Evidence]x"));
    assertTrue(SelfRagPrompt.match("It is Paris.", List.of("London", "Paris")));
    assertFalse(SelfRagPrompt.match("It is paris.", List.of("Paris")));
    assertEquals(
        "### Instruction:\nWho?\n\n### Response:\n[Retrieval]<paragraph>T\nbody</paragraph>",
        SelfRagPrompt.withPassage(SelfRagPrompt.prompt("Who?"), "T", "body"));
  }
}
