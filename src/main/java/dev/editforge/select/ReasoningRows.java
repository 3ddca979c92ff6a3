package dev.editforge.select;

import dev.editforge.config.ConfigReader;
import dev.editforge.io.SftRow;
import dev.editforge.io.SftSource;
import dev.editforge.text.PyText;

/**
 * Which reasoning traces become SFT rows, and how. A trace is kept when it has no error and a
 * non-blank text, and — by default — when its extracted answer agrees with the gold answer ({@code
 * only-agreeing}), and when its answer's self-consistency vote share is at least {@code
 * min-vote-share}. The row's prompt is the student prompt (the problem without its answer), its
 * completion the stripped trace, its score the vote share. Pure; thread-safe.
 */
public final class ReasoningRows {
  private ReasoningRows() {}

  /** Why a trace was left out; {@link #key()} names the manifest count. */
  public enum Drop {
    FAILED("reasoning_failed"),
    NOT_AGREEING("reasoning_not_agreeing"),
    BELOW_VOTE_SHARE("reasoning_below_vote_share"),
    NO_PROBLEM("reasoning_no_problem");

    private final String key;

    Drop(String key) {
      this.key = key;
    }

    public String key() {
      return key;
    }
  }

  /**
   * {@code editforge.select.reasoning}. {@code enabled = false} leaves reasoning out even when the
   * run has a reasoning table.
   */
  public record Settings(boolean include, boolean onlyAgreeing, double minVoteShare) {
    public static Settings from(ConfigReader r) {
      return new Settings(
          r.bool("enabled"), r.bool("only-agreeing"), r.number("min-vote-share", 0.0, 1.0));
    }
  }

  /**
   * Null when the trace is kept, else why not. {@code agrees} and {@code voteShare} may be null (no
   * gold answer, no vote): an unknown agreement does not pass {@code only-agreeing}, an unknown
   * share counts as 0.
   */
  public static Drop drop(
      String error, String reasoning, Boolean agrees, Double voteShare, Settings s) {
    if (error != null || PyText.isBlank(reasoning)) {
      return Drop.FAILED;
    }
    if (s.onlyAgreeing() && !Boolean.TRUE.equals(agrees)) {
      return Drop.NOT_AGREEING;
    }
    double share = voteShare == null ? 0.0 : voteShare;
    if (s.minVoteShare() > 0 && !(share >= s.minVoteShare())) {
      return Drop.BELOW_VOTE_SHARE;
    }
    return null;
  }

  /** The SFT row of a kept trace: the student prompt and the stripped trace. */
  public static SftRow row(
      String studentPrompt, String reasoning, String traceId, Double voteShare) {
    return SftRow.exchange(
        studentPrompt, PyText.strip(reasoning), SftSource.REASONING, traceId, voteShare);
  }
}
