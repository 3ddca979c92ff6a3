package dev.editforge.selfrag;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;

class CriticRepliesTest {
  @Test
  void retrievalTakesTheTextBeforeTheExplanation() {
    CriticReplies.Parsed yes =
        CriticReplies.parse(CriticType.RETRIEVAL, "[Yes]\nExplanation: facts help.");
    assertEquals("[Yes]", yes.parsed());
    assertEquals("[Retrieval]", yes.label());
    assertEquals(
        "[No Retrieval]",
        CriticReplies.parse(CriticType.RETRIEVAL, "[No]\nExplanation: x").label());
    // no "\nExplanation:" at all: the script stores ("", "") and combine finds neither Yes nor No
    CriticReplies.Parsed none = CriticReplies.parse(CriticType.RETRIEVAL, "[Yes] because");
    assertEquals("", none.parsed());
    assertNull(none.label());
    assertTrue(none.error().startsWith("unparseable reply"));
  }

  @Test
  void multiRetrievalNeedsAnExactToken() {
    assertEquals(
        "[Continue to Use Evidence]",
        CriticReplies.parse(
                CriticType.MULTI_RETRIEVAL, "[Continue to Use Evidence]\nExplanation: covered.")
            .label());
    assertNull(
        CriticReplies.parse(CriticType.MULTI_RETRIEVAL, "Retrieval\nExplanation: x").label());
  }

  @Test
  void relevanceAndSupportReadTheFirstLineWithOneTrailingSpaceCut() {
    assertEquals(
        "[Relevant]",
        CriticReplies.parse(CriticType.RELEVANCE, "[Relevant] \nExplanation: on topic").label());
    assertNull(CriticReplies.parse(CriticType.RELEVANCE, "[Relevant]  \nExplanation: x").label());
    CriticReplies.Parsed sup =
        CriticReplies.parse(
            CriticType.SUPPORT, "[Partially supported]\nExplanation: only 2 of 3 claims");
    assertEquals("[Partially supported]", sup.label());
    assertEquals("", sup.parsed()); // no digit before "\nExplanation:"
  }

  @Test
  void utilityIsTheLargestDigitOneToFiveBeforeTheExplanation() {
    assertEquals("4", CriticReplies.score("Rating 2 or 4, 9\nExplanation: 5"));
    assertEquals(
        "[Utility:4]",
        CriticReplies.parse(CriticType.UTILITY, "Perceived utility: 4\nExplanation: ok").label());
    assertNull(CriticReplies.parse(CriticType.UTILITY, "5").label());
  }

  @Test
  void postprocessConvertersMapCriticModelPredictions() {
    assertEquals("[Utility:2]", CriticReplies.utilityOf("[Utility:2] or 5"));
    assertEquals("[Retrieval]", CriticReplies.retrievalOf("Retrieval]"));
    assertEquals("[Retrieval]", CriticReplies.retrievalOf("Yes"));
    assertEquals("[No Retrieval]", CriticReplies.retrievalOf("maybe"));
    assertNull(CriticReplies.retrievalOf(null));
    assertEquals("[Fully supported]", CriticReplies.supportOf("4"));
  }

  @Test
  void sentencesSkipShortOnesOnlyInLongerOutputs() {
    assertEquals(
        java.util.List.of("Dr. Smith came at 5 p.m. today.", "He left."),
        Sentences.split("Dr. Smith came at 5 p.m. today. He left."));
    var s =
        Sentences.segment(
            "Short one. This sentence is long enough to keep. And another long one here.");
    assertTrue(s.get(0).skipped());
    assertTrue(!s.get(1).skipped());
    assertEquals("Short one. This sentence is long enough to keep.", Sentences.preceding(s, 2));
    assertTrue(!Sentences.segment("Tiny. Also tiny.").get(0).skipped());
  }
}
