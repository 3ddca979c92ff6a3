package dev.editforge.judge;

import dev.editforge.text.PyText;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.regex.Pattern;

/**
 * SEAL's LLM grader: its grading prompt verbatim (knowledge-incorporation {@code utils.py}, {@code
 * SQUAD_GRADE_TEMPLATE}), the prediction stripped as SEAL does, and the verdict "correct iff the
 * reply contains {@code yes} and not {@code no} as whole words, case-insensitive".
 *
 * <ul>
 *   <li>A blank prediction is false without a call (SEAL grades only non-empty answers).
 *   <li>Several golds: one call per gold with the unchanged prompt (SEAL's prompt has one gold slot
 *       and is a protocol constant), stopping at the first yes.
 *   <li>Identical prompts — the same (question, gold, stripped prediction) — are sent once per
 *       judge instance and the verdict reused; concurrent askers of the same prompt wait for the
 *       one call. In SEAL's rank_iter0 half of the 6,750 gradings repeat an earlier triple (greedy
 *       baseline answers recur across repeats), and GPT-4.1 gave every repeat the same verdict, so
 *       reuse changes nothing but cost.
 *   <li>Failure: retries are the client's job; when {@link ChatCall#complete} still throws (or
 *       returns null) this judge throws {@link JudgeException} naming the question, and caches
 *       nothing for that prompt. It never counts an ungradeable answer as wrong the way SEAL's
 *       fallback does: that would bias accuracies downward silently; the caller decides (e.g.
 *       record the TTT repeat as failed).
 * </ul>
 *
 * Thread-safe when the {@link ChatCall} is.
 */
public final class LlmJudge implements Judge {
  public static final String GRADE_TEMPLATE =
      "You are a grading assistant. Your job is to determine whether a student's answer correctly answers the question based solely on the provided gold answer. "
          + "Do not use any outside knowledge. The student answer can include additional information, but it must at least fully convey the gold answer and must not contradict it. "
          + "Ignore style, phrasing, or extra details that do not affect correctness. Respond ONLY with 'yes' or 'no'.\n\n"
          + "Question: {question}\nGold answer: {gold}\nStudent answer: {pred}\n"
          + "Is the student answer correct based solely on the gold answer? Respond 'yes' or 'no'.";

  private static final Pattern YES =
      Pattern.compile(
          "\\byes\\b",
          Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE | Pattern.UNICODE_CHARACTER_CLASS);
  private static final Pattern NO =
      Pattern.compile(
          "\\bno\\b",
          Pattern.CASE_INSENSITIVE | Pattern.UNICODE_CASE | Pattern.UNICODE_CHARACTER_CLASS);

  /** One completion of one user message by the grading model. */
  @FunctionalInterface
  public interface ChatCall {
    String complete(String prompt) throws Exception;
  }

  private final ChatCall call;
  private final ConcurrentHashMap<String, CompletableFuture<Boolean>> cache =
      new ConcurrentHashMap<>();
  private final AtomicLong calls = new AtomicLong();
  private final AtomicLong reused = new AtomicLong();

  public LlmJudge(ChatCall call) {
    this.call = call;
  }

  @Override
  public String name() {
    return "llm";
  }

  /** SEAL's grading prompt for one gold; the prediction is stripped (Python {@code str.strip}). */
  public static String gradePrompt(String question, String gold, String prediction) {
    return PyText.format(
        GRADE_TEMPLATE,
        Map.of("question", question, "gold", gold, "pred", PyText.strip(prediction)));
  }

  /** SEAL's {@code parse_yes_no}: a whole-word yes and no whole-word no, case-insensitive. */
  public static boolean parseYesNo(String reply) {
    return YES.matcher(reply).find() && !NO.matcher(reply).find();
  }

  @Override
  public boolean correct(String question, List<String> golds, String prediction) {
    if (PyText.isBlank(prediction)) {
      return false;
    }
    for (String gold : golds) {
      if (gold != null && verdict(question, gradePrompt(question, gold, prediction))) {
        return true;
      }
    }
    return false;
  }

  /** Grading calls made so far. */
  public long calls() {
    return calls.get();
  }

  /** Gradings answered from an earlier identical prompt. */
  public long reused() {
    return reused.get();
  }

  private boolean verdict(String question, String prompt) {
    CompletableFuture<Boolean> mine = new CompletableFuture<>();
    CompletableFuture<Boolean> earlier = cache.putIfAbsent(prompt, mine);
    if (earlier != null) {
      reused.incrementAndGet();
      try {
        return earlier.get();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new JudgeException(
            "interrupted while waiting for the grading of: " + abbreviate(question), e);
      } catch (ExecutionException e) {
        throw new JudgeException(
            "LLM judge call failed for question: " + abbreviate(question), e.getCause());
      }
    }
    try {
      calls.incrementAndGet();
      String reply = call.complete(prompt);
      if (reply == null) {
        throw new IllegalStateException("the grading call returned no text");
      }
      boolean v = parseYesNo(reply);
      mine.complete(v);
      return v;
    } catch (Exception e) {
      if (e instanceof InterruptedException) {
        Thread.currentThread().interrupt();
      }
      cache.remove(prompt, mine);
      mine.completeExceptionally(e);
      throw new JudgeException(
          "LLM judge call failed for question: " + abbreviate(question) + ": " + e, e);
    }
  }

  private static String abbreviate(String s) {
    String one = s.replace('\n', ' ');
    return one.length() <= 120 ? one : one.substring(0, 117) + "...";
  }
}
