package dev.editforge.generate;

import dev.editforge.text.AnswerVoting;
import java.util.ArrayList;
import java.util.List;

/**
 * How one question's sampled traces are judged once their answers are extracted. Pure.
 *
 * <ul>
 *   <li>With a gold answer: {@code agrees} = the trace's letter is the gold letter.
 *   <li>Without one (self-consistency): the question's vote ({@link AnswerVoting#vote}) picks the
 *       majority letter; {@code agrees} = the trace's letter is that majority. A tie (two or more
 *       letters with the most votes) or no answer at all gives no majority: every trace gets {@code
 *       agrees = false}, and {@link Decision#tie()} / {@link Decision#noAnswer()} say so.
 *   <li>{@code vote_share} of a trace (both cases) = the share of the question's samples that gave
 *       the same letter as this trace (its own answer's vote share; the majority's share for a
 *       majority trace); 0 for a trace without an answer. Failed traces count as samples without an
 *       answer.
 * </ul>
 */
public final class ReasoningVotes {
  private ReasoningVotes() {}

  /** The judgement of one question's traces, in sample order. */
  public record Decision(
      String majority,
      boolean tie,
      boolean noAnswer,
      List<Boolean> agrees,
      List<Double> voteShares) {}

  /**
   * @param predicted extracted letters in sample order (null = no answer); @param gold gold letter
   *     or null
   */
  public static Decision decide(List<String> predicted, String gold) {
    AnswerVoting.Vote vote = AnswerVoting.vote(predicted);
    boolean noAnswer = vote.answered() == 0;
    String majority = vote.tie() ? null : vote.answer();
    List<Boolean> agrees = new ArrayList<>();
    List<Double> shares = new ArrayList<>();
    int n = predicted.size();
    for (String p : predicted) {
      if (gold != null) {
        agrees.add(AnswerVoting.agrees(p, gold));
      } else {
        agrees.add(p != null && p.equals(majority));
      }
      shares.add(p == null || n == 0 ? 0.0 : vote.counts().get(p) / (double) n);
    }
    return new Decision(majority, vote.tie(), noAnswer, agrees, shares);
  }
}
