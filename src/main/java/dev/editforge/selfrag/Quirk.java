package dev.editforge.selfrag;

import java.util.Locale;

/**
 * Self-RAG's inference code as written differs from what its paper and names intend in a few places
 * (../shared/reference/selfrag/spec.md sections e and f). editforge does the intended thing by
 * default; each quirk switches one as-written behaviour back on, to reproduce the released numbers.
 */
public enum Quirk {
  /**
   * Short-form adaptive retrieval compares raw log-probabilities: {@code lp(Ret) / (lp(Ret) +
   * lp(NoRet)) > threshold} (run_short_form.py:73-81). Both are negative, so the ratio is near 1
   * whenever {@code [Retrieval]} is the less likely token: it retrieves almost always (issue #45).
   */
  LOGPROB_THRESHOLD,
  /**
   * Long form: a relevance token the step does not report counts as -100 instead of {@code
   * exp(-100)} (run_long_form_static.py:11-103), so the relevance ratio can go negative.
   */
  ABSENT_RELEVANCE_RAW,
  /**
   * Long form: the utility loop iterates the groundness tokens (run_long_form_static.py:68), so
   * utility is always 0.
   */
  UTILITY_ZERO,
  /**
   * Long form: child {@code i >= 1} of a node stores its sibling's text in its prompt
   * (run_long_form_static.py:234-243).
   */
  SIBLING_PROMPT,
  /**
   * Long form: whether to go on retrieving is read from the decoded text, which (special tokens
   * skipped) never contains {@code [Retrieval]}: the search stops at depth 1.
   */
  TEXT_CONTINUATION;

  /** The config spelling: {@code logprob-threshold}, {@code utility-zero}, ... */
  public String key() {
    return name().toLowerCase(Locale.ROOT).replace('_', '-');
  }

  /** The quirk a config key names, or null. */
  public static Quirk ofKey(String key) {
    for (Quirk q : values()) {
      if (q.key().equals(key)) {
        return q;
      }
    }
    return null;
  }
}
