package dev.editforge.selfrag;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;

import dev.editforge.selfrag.GeneratorAssembly.Item;
import dev.editforge.selfrag.GeneratorAssembly.Passage;
import dev.editforge.selfrag.GeneratorAssembly.Row;
import dev.editforge.selfrag.GeneratorAssembly.SentenceLabels;
import dev.editforge.selfrag.Sentences.Sentence;
import java.util.List;
import java.util.Random;
import org.junit.jupiter.api.Test;

/**
 * Generator rows for a fixture written by hand from spec section c (postprocess_data.py): the
 * expected strings below were typed from the rules, not produced by the code.
 */
class GeneratorAssemblyTest {
  /** Every draw that the rules make "with probability p" taken, so the fixture is exact. */
  static final GeneratorAssembly.Settings ALWAYS =
      new GeneratorAssembly.Settings(7, 1.0, 1.0, 1.0, 0.0, 0.0, false);

  static final String REL = "[Relevant]";
  static final String IRR = "[Irrelevant]";
  static final String FULL = "[Fully supported]";
  static final String PART = "[Partially supported]";
  static final String NONE = "[No support / Contradictory]";

  @Test
  void severalSentencesWithPassagesContinuationAndUtility() {
    Item item =
        new Item(
            "q1",
            "alpaca",
            "Tell me about Veltmoor's lighthouse.",
            "ignored: generator text is built from the sentences",
            "[Retrieval]",
            "[Utility:4]",
            List.of(
                new SentenceLabels(
                    new Sentence(0, "The lighthouse was built in 1871.", false),
                    null,
                    List.of(
                        new Passage("Harbour", "Boats dock here.", IRR, NONE),
                        new Passage("Lighthouse", "Built in 1871 of granite.", REL, FULL))),
                new SentenceLabels(new Sentence(1, "Yes.", true), null, List.of()),
                new SentenceLabels(
                    new Sentence(2, "It is made of granite blocks.", false),
                    "[Continue to Use Evidence]",
                    List.of()),
                new SentenceLabels(
                    new Sentence(3, "Many visitors find it beautiful.", false),
                    "[No Retrieval]",
                    List.of()),
                new SentenceLabels(
                    new Sentence(4, "Its lamp was electrified in 1931.", false),
                    "[Retrieval]",
                    List.of(
                        new Passage("Lamp", "The lamp was modernised.", REL, PART),
                        new Passage("Keeper", "A keeper lived there.", REL, NONE)))));
    Row row = GeneratorAssembly.assemble(item, ALWAYS).row();
    assertEquals(
        new Row(
            "Tell me about Veltmoor's lighthouse.",
            "[Retrieval]<paragraph>Lighthouse\nBuilt in 1871 of granite.</paragraph>[Relevant]"
                + "The lighthouse was built in 1871.[Fully supported]"
                + "Yes."
                + "[Continue to Use Evidence]It is made of granite blocks."
                + "[No Retrieval]Many visitors find it beautiful."
                + "[Retrieval]<paragraph>Lamp\nThe lamp was modernised.</paragraph>[Relevant]"
                + "Its lamp was electrified in 1931.[Partially supported]"
                + "[Utility:4]",
            "",
            "q1",
            "alpaca"),
        row);
  }

  @Test
  void noRetrievalWrapsTheWholeOutput() {
    Item item =
        new Item(
            "q2",
            "alpaca",
            "Write a haiku about the tide.",
            "Grey water withdraws\nleaving shells along the sand",
            "[No Retrieval]",
            "[Utility:5]",
            List.of());
    assertEquals(
        new Row(
            "Write a haiku about the tide.",
            "[No Retrieval]Grey water withdraws\nleaving shells along the sand[Utility:5]",
            "",
            "q2",
            "alpaca"),
        GeneratorAssembly.assemble(item, ALWAYS).row());
    // the script keeps such a row only when random() > 0.6
    GeneratorAssembly.Outcome never =
        GeneratorAssembly.assemble(item, new GeneratorAssembly.Settings(7, 0.0, 1, 1, 0, 0, false));
    assertNull(never.row());
    assertEquals("no-retrieval row not drawn", never.dropped());
  }

  @Test
  void irrelevantPassageAndKnowledgeTasksAndFilters() {
    // fever: Relevant + No support is written as [Irrelevant]; SUPPORTS becomes true
    Item fever =
        new Item(
            "f1",
            "fever",
            "Is the claim supported?",
            "",
            "[Retrieval]",
            "[Utility:1]",
            List.of(
                new SentenceLabels(
                    new Sentence(0, "SUPPORTS", false),
                    null,
                    List.of(new Passage("Claim", "Some text.", REL, NONE)))));
    assertEquals(
        "[Retrieval]<paragraph>Claim\nSome text.</paragraph>[Irrelevant]true[Utility:1]",
        GeneratorAssembly.assemble(fever, ALWAYS).row().output());
    // missing labels drop the row with the reason
    Item noUtility = new Item("u", "alpaca", "i", "o", "[No Retrieval]", null, List.of());
    assertEquals("no utility label", GeneratorAssembly.assemble(noUtility, ALWAYS).dropped());
    Item noMulti =
        new Item(
            "m",
            "alpaca",
            "i",
            "o",
            "[Retrieval]",
            "[Utility:3]",
            List.of(
                new SentenceLabels(
                    new Sentence(0, "First sentence here.", false),
                    null,
                    List.of(new Passage("T", "x", REL, FULL))),
                new SentenceLabels(
                    new Sentence(1, "Second sentence here.", false), null, List.of())));
    assertEquals(
        "no retrieval label for sentence 1", GeneratorAssembly.assemble(noMulti, ALWAYS).dropped());
  }

  @Test
  void randomPassageIsAnIrrelevantOneUnlessTheScriptsIndexIsAskedFor() {
    // support labels none of the rules pick: two relevant-unlabelled-support... use Partially with
    // partialFirst = 0 so the draw is random; passages 0,1 relevant, 2,3 irrelevant
    List<Passage> ps =
        List.of(
            new Passage("a", "a", REL, PART),
            new Passage("b", "b", REL, PART),
            new Passage("c", "c", IRR, PART),
            new Passage("d", "d", IRR, PART));
    GeneratorAssembly.Settings intended = new GeneratorAssembly.Settings(1, 1, 0.0, 1, 0, 0, false);
    GeneratorAssembly.Settings asWritten = new GeneratorAssembly.Settings(1, 1, 0.0, 1, 0, 0, true);
    for (long seed = 0; seed < 50; seed++) {
      int i = GeneratorAssembly.choose(ps, false, new Random(seed), intended);
      int w = GeneratorAssembly.choose(ps, false, new Random(seed), asWritten);
      assertEquals(true, i == 2 || i == 3, "intended draws an irrelevant passage, got " + i);
      assertEquals(true, w == 0 || w == 1, "as written draws index < #irrelevant, got " + w);
      assertEquals(i - 2, w, "the same draw");
    }
  }
}
