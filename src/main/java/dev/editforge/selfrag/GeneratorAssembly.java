package dev.editforge.selfrag;

import java.io.Serializable;
import java.util.ArrayList;
import java.util.List;
import java.util.Random;
import java.util.Set;

/**
 * Self-RAG's generator training text (data_creation/generator/postprocess_data.py): an output with
 * reflection tokens inserted from the critic's labels.
 *
 * <ul>
 *   <li>Initial retrieval label {@code [No Retrieval]} (:222): {@code [No Retrieval]} + output +
 *       {@code [Utility:k]}, kept with probability {@code noRetrievalKeep} (the script: {@code
 *       random() > 0.6}).
 *   <li>Otherwise per sentence, joined with no separator (:320-348): a skipped sentence raw; {@code
 *       [Retrieval]} → {@code [Retrieval]<paragraph>{title}\n{text}</paragraph>[Relevant]{sentence}
 *       {IsSup}} or {@code ...</paragraph>[Irrelevant]{sentence}}; {@code [Continue to Use
 *       Evidence]{sentence}}; {@code [No Retrieval]{sentence}}; then {@code [Utility:k]}. Sentence
 *       0 takes the instruction's retrieval label, later ones their multi-retrieval label.
 *   <li>Passage (:266-310): the first Fully supported + Relevant (nq: a random one with probability
 *       0.25); else the first Partially supported with probability 0.7; else, when none is
 *       partially supported, the first No support with probability 0.25; else a random one. nq,
 *       fever, wow: Relevant + No support is written {@code [Irrelevant]} (:325).
 *   <li>The script's "random" is {@code random.sample(range(len(irrelevant)), 1)[0]}: an index into
 *       all passages below the number of irrelevant ones, not an irrelevant passage. The default
 *       draws an irrelevant passage (what the code means); {@code asWrittenRandomIndex} keeps the
 *       script's index. With no irrelevant passage both draw among all passages (the script raises
 *       ValueError there).
 *   <li>Filters: nq rows with {@code [No Retrieval]} dropped with probability 0.5; empty outputs
 *       dropped; REFUTES → false, SUPPORTS → true; outputs starting {@code [Continue to Use
 *       Evidence]} dropped (:368). A row whose needed labels are missing is dropped with the
 *       reason.
 * </ul>
 *
 * Randomness: one {@link Random} per row, seeded from the settings' seed and the row id, so a row's
 * draws do not depend on partitioning or order. Stateless and thread-safe.
 */
public final class GeneratorAssembly {
  /**
   * retrieval_lm/finetune.py's PROMPT_DICT["prompt_no_input"]: the prompt a generator row is
   * trained after (its input is always empty).
   */
  public static final String TRAINING_PROMPT = "### Instruction:\n{instruction}\n\n### Response:\n";

  private static final Set<String> KNOWLEDGE = Set.of("nq", "fever", "wow");

  private GeneratorAssembly() {}

  /**
   * The draw probabilities (Self-RAG's values by default) and the as-written switch.
   *
   * @param noRetrievalKeep probability a no-retrieval row is kept (script: 0.4)
   * @param partialFirst probability the first partially supported passage is taken (0.7)
   * @param noSupportFirst probability the first unsupported passage is taken (0.25)
   * @param nqRandom probability an nq sentence takes a random passage over a fully supported one
   *     (0.25)
   * @param nqNoRetrievalDrop probability an nq row with {@code [No Retrieval]} is dropped (0.5)
   */
  public record Settings(
      long seed,
      double noRetrievalKeep,
      double partialFirst,
      double noSupportFirst,
      double nqRandom,
      double nqNoRetrievalDrop,
      boolean asWrittenRandomIndex)
      implements Serializable {
    public static Settings selfRag(long seed) {
      return new Settings(seed, 0.4, 0.7, 0.25, 0.25, 0.5, false);
    }
  }

  /** A passage shown for a sentence, with the critic's labels (null when missing). */
  public record Passage(String title, String text, String relevance, String support)
      implements Serializable {}

  /**
   * A sentence with its multi-retrieval label (null for sentence 0, which uses the instruction's
   * label, and when missing) and its passages in retrieval order.
   */
  public record SentenceLabels(
      Sentences.Sentence sentence, String retrieval, List<Passage> passages)
      implements Serializable {}

  /** One instruction with its labels: {@code retrieval} and {@code utility} as the critic gave. */
  public record Item(
      String id,
      String datasetName,
      String instruction,
      String output,
      String retrieval,
      String utility,
      List<SentenceLabels> sentences)
      implements Serializable {}

  /** Self-RAG's training row ({@code selfrag/selfrag_train_data}); input is always "". */
  public record Row(String instruction, String output, String input, String id, String datasetName)
      implements Serializable {}

  /** A row, or why there is none. */
  public record Outcome(Row row, String dropped) implements Serializable {}

  public static Outcome assemble(Item item, Settings s) {
    Random rnd = new Random(s.seed() * 0x9E3779B97F4A7C15L ^ item.id().hashCode());
    String initial = CriticReplies.retrievalOf(item.retrieval());
    String utility = CriticReplies.utilityOf(item.utility());
    if (initial == null) {
      return drop("no retrieval label");
    }
    if (utility == null) {
      return drop("no utility label");
    }
    boolean knowledge = KNOWLEDGE.contains(item.datasetName());
    boolean nq = "nq".equals(item.datasetName());
    String text;
    if (initial.equals(ReflectionTokens.NO_RETRIEVAL)) {
      if (!(rnd.nextDouble() < s.noRetrievalKeep())) {
        return drop("no-retrieval row not drawn");
      }
      text = ReflectionTokens.NO_RETRIEVAL + item.output() + utility;
    } else {
      StringBuilder b = new StringBuilder();
      for (SentenceLabels sl : item.sentences()) {
        Sentences.Sentence sentence = sl.sentence();
        if (sentence.skipped()) {
          b.append(sentence.text());
          continue;
        }
        String decision =
            sentence.index() == 0 ? initial : CriticReplies.retrievalOf(sl.retrieval());
        if (decision == null) {
          return drop("no retrieval label for sentence " + sentence.index());
        }
        if (decision.equals(ReflectionTokens.RETRIEVAL)) {
          String segment = retrieved(sl, knowledge, nq, rnd, s);
          if (segment == null) {
            return drop("no labelled passage for sentence " + sentence.index());
          }
          b.append(segment);
        } else {
          b.append(decision).append(sentence.text());
        }
      }
      text = b.append(utility).toString();
    }
    if (nq && text.contains(ReflectionTokens.NO_RETRIEVAL)) {
      if (rnd.nextDouble() < s.nqNoRetrievalDrop()) {
        return drop("nq no-retrieval row not drawn");
      }
    }
    if (text.isEmpty()) {
      return drop("empty output");
    }
    text = text.replace("REFUTES", "false").replace("SUPPORTS", "true");
    if (text.startsWith(ReflectionTokens.CONTINUE)) {
      return drop("output starts with " + ReflectionTokens.CONTINUE);
    }
    return new Outcome(new Row(item.instruction(), text, "", item.id(), item.datasetName()), null);
  }

  private static String retrieved(
      SentenceLabels sl, boolean knowledge, boolean nq, Random rnd, Settings s) {
    List<Passage> ps = new ArrayList<>();
    for (Passage p : sl.passages()) {
      if (p.relevance() != null && p.support() != null) {
        ps.add(
            new Passage(p.title(), p.text(), p.relevance(), CriticReplies.supportOf(p.support())));
      }
    }
    if (ps.isEmpty()) {
      return null;
    }
    int chosen = choose(ps, nq, rnd, s);
    Passage p = ps.get(chosen);
    String rel = p.relevance();
    if (knowledge
        && rel.equals(ReflectionTokens.RELEVANT)
        && p.support().equals(ReflectionTokens.NO_SUPPORT)) {
      rel = ReflectionTokens.IRRELEVANT;
    }
    String head =
        ReflectionTokens.RETRIEVAL
            + ReflectionTokens.PARAGRAPH_OPEN
            + CriticPrompts.evidence(p.title(), p.text())
            + ReflectionTokens.PARAGRAPH_CLOSE;
    String sentence = sl.sentence().text();
    return rel.equals(ReflectionTokens.RELEVANT)
        ? head + ReflectionTokens.RELEVANT + sentence + p.support()
        : head + ReflectionTokens.IRRELEVANT + sentence;
  }

  /** The index of the passage a sentence is written with (see the class comment). */
  static int choose(List<Passage> ps, boolean nq, Random rnd, Settings s) {
    int fully = -1;
    int partial = -1;
    int none = -1;
    List<Integer> irrelevant = new ArrayList<>();
    for (int i = 0; i < ps.size(); i++) {
      Passage p = ps.get(i);
      if (fully < 0
          && p.support().equals(ReflectionTokens.FULLY_SUPPORTED)
          && p.relevance().equals(ReflectionTokens.RELEVANT)) {
        fully = i;
      }
      if (partial < 0 && p.support().equals(ReflectionTokens.PARTIALLY_SUPPORTED)) {
        partial = i;
      }
      if (none < 0 && p.support().equals(ReflectionTokens.NO_SUPPORT)) {
        none = i;
      }
      if (p.relevance().equals(ReflectionTokens.IRRELEVANT)) {
        irrelevant.add(i);
      }
    }
    if (fully >= 0 && !(nq && rnd.nextDouble() < s.nqRandom())) {
      return fully;
    }
    if (fully < 0 && partial >= 0) {
      if (rnd.nextDouble() < s.partialFirst()) {
        return partial;
      }
    } else if (fully < 0 && none >= 0) {
      if (rnd.nextDouble() < s.noSupportFirst()) {
        return none;
      }
    }
    if (irrelevant.isEmpty()) {
      return rnd.nextInt(ps.size());
    }
    int k = rnd.nextInt(irrelevant.size());
    return s.asWrittenRandomIndex() ? k : irrelevant.get(k);
  }

  /** The training prompt of a row: {@link #TRAINING_PROMPT} with its instruction. */
  public static String trainingPrompt(String instruction) {
    return CriticPrompts.format(TRAINING_PROMPT, java.util.Map.of("instruction", instruction));
  }

  private static Outcome drop(String why) {
    return new Outcome(null, why);
  }
}
