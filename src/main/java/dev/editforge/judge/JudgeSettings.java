package dev.editforge.judge;

import java.util.ArrayList;
import java.util.List;

/**
 * {@code editforge.judge}: which judge grades TTT answers. {@code llm} is SEAL's (GPT-4.1 with
 * SEAL's grading prompt, through the OpenAI-compatible client); the others are {@link LocalJudges}.
 *
 * <p>Default thresholds, chosen for SEAL's answers (greedy, "directly and concisely", at most 64
 * new tokens; in rank_iter0 a median of 15 normalized tokens against a median gold of 2): {@code
 * f1-threshold = 0.1} — token F1 is dominated by precision on such answers, so SQuAD's customary
 * 0.5 rejects nearly every verbose-but-right answer (it agrees with GPT-4.1 at kappa 0.07); 0.1
 * still accepts a fully contained 2-token gold in a 38-token answer and sits on the measured
 * plateau (kappa 0.54-0.55 for 0.05-0.1). {@code recall-threshold = 0.75} — all tokens of a gold up
 * to 3 tokens long must appear, one in four may be missing from longer golds (a dropped "and" or
 * "of" in a name, which GPT-4.1 accepts).
 */
public record JudgeSettings(
    String kind, double f1Threshold, double recallThreshold, String llmModel) {

  public static final double DEFAULT_F1_THRESHOLD = 0.1;
  public static final double DEFAULT_RECALL_THRESHOLD = 0.75;

  public static List<String> kinds() {
    List<String> k = new ArrayList<>();
    k.add("llm");
    k.addAll(LocalJudges.NAMES);
    return k;
  }

  public static JudgeSettings defaults() {
    return new JudgeSettings("llm", DEFAULT_F1_THRESHOLD, DEFAULT_RECALL_THRESHOLD, "gpt-4.1");
  }

  /**
   * The configured judge. {@code chat} is only used (and must be non-null) for {@code llm}; it
   * should send one user message to {@link #llmModel()} and return the reply text.
   */
  public Judge create(LlmJudge.ChatCall chat) {
    if ("llm".equals(kind)) {
      if (chat == null) {
        throw new IllegalArgumentException(
            "editforge.judge.kind = llm needs a chat client for " + llmModel);
      }
      return new LlmJudge(chat);
    }
    return LocalJudges.byName(kind, this);
  }
}
