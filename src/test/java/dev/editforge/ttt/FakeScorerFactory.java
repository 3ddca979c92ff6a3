package dev.editforge.ttt;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A deterministic stand-in for the LoRA engine: a result depends only on (seed, article, question)
 * for the baseline and (seed, edit, repeat, question) for the adapter, as the real scorer's must
 * for resumed runs to match. Counts factory calls and score calls per article in static maps keyed
 * by a test's tag (local mode runs the tasks in this JVM), and can simulate a kill: after {@link
 * #failAfter} successful score calls every further call throws.
 */
final class FakeScorerFactory implements EditScorerFactory {
  private static final long serialVersionUID = 1L;

  static final Map<String, AtomicInteger> CREATES = new ConcurrentHashMap<>();
  static final Map<String, Map<String, AtomicInteger>> CALLS = new ConcurrentHashMap<>();
  static final Map<String, AtomicInteger> BUDGET = new ConcurrentHashMap<>();
  static final Map<String, List<String>> DEVICES = new ConcurrentHashMap<>();

  /** Adapters trained per tag and edit id (one per repeat): the trainer's call count. */
  static final Map<String, Map<String, AtomicInteger>> TRAINED = new ConcurrentHashMap<>();

  /** Articles whose baseline answers were given (stored by an earlier run), per tag. */
  static final Map<String, Map<String, AtomicInteger>> GIVEN_BASELINES = new ConcurrentHashMap<>();

  /** The train sequences each edit was given, per tag and edit id. */
  static final Map<String, Map<String, List<String>>> SEQUENCES = new ConcurrentHashMap<>();

  private final String tag;
  private final int evalTimes;
  private final long seed;
  private final String judge;

  FakeScorerFactory(String tag, int evalTimes, long seed) {
    this(tag, evalTimes, seed, null);
  }

  /**
   * With {@code judge} (a local judge's name), answers are drawn from a few shapes — the gold in a
   * sentence, the gold in capitals, something else — and graded by that judge, as the real scorer
   * grades; without, verdicts are coin flips.
   */
  FakeScorerFactory(String tag, int evalTimes, long seed, String judge) {
    this.tag = tag;
    this.evalTimes = evalTimes;
    this.seed = seed;
    this.judge = judge;
    TRAINED.putIfAbsent(tag, new ConcurrentHashMap<>());
    GIVEN_BASELINES.putIfAbsent(tag, new ConcurrentHashMap<>());
    CREATES.putIfAbsent(tag, new AtomicInteger());
    CALLS.putIfAbsent(tag, new ConcurrentHashMap<>());
    DEVICES.putIfAbsent(tag, java.util.Collections.synchronizedList(new ArrayList<>()));
    SEQUENCES.putIfAbsent(tag, new ConcurrentHashMap<>());
  }

  static void failAfter(String tag, int successfulCalls) {
    BUDGET.put(tag, new AtomicInteger(successfulCalls));
  }

  static void neverFail(String tag) {
    BUDGET.remove(tag);
  }

  /** Adapters trained so far, per edit id. */
  static Map<String, Integer> trained(String tag) {
    Map<String, Integer> out = new java.util.TreeMap<>();
    TRAINED.get(tag).forEach((k, v) -> out.put(k, v.get()));
    return out;
  }

  static int trainedTotal(String tag) {
    return trained(tag).values().stream().mapToInt(Integer::intValue).sum();
  }

  /** Articles scored with stored baseline answers, and how often. */
  static Map<String, Integer> givenBaselines(String tag) {
    Map<String, Integer> out = new java.util.TreeMap<>();
    GIVEN_BASELINES.get(tag).forEach((k, v) -> out.put(k, v.get()));
    return out;
  }

  static int creates(String tag) {
    return CREATES.get(tag).get();
  }

  /** Score calls so far, per article id. */
  static Map<String, Integer> calls(String tag) {
    Map<String, Integer> out = new java.util.TreeMap<>();
    CALLS.get(tag).forEach((k, v) -> out.put(k, v.get()));
    return out;
  }

  @Override
  public String model() {
    return "fake-model-" + tag;
  }

  @Override
  public String variant() {
    return evalTimes + "/" + seed + "/" + judge;
  }

  @Override
  public EditScorer create(ScoreDevice device) {
    CREATES.get(tag).incrementAndGet();
    DEVICES.get(tag).add(device.name());
    return new Scorer();
  }

  private static int bit(String... parts) {
    return Math.floorMod(String.join("|", parts).hashCode() * 31 + 7, 2);
  }

  /** One of three answer shapes for {@code gold}, by a hash of {@code parts}. */
  private static String answer(String gold, String... parts) {
    int pick = Math.floorMod(String.join("|", parts).hashCode() * 31 + 11, 3);
    return switch (pick) {
      case 0 -> "It is " + gold + ".";
      case 1 -> gold.toUpperCase(java.util.Locale.ROOT);
      default -> "no idea";
    };
  }

  final class Scorer implements EditScorer {
    private final dev.editforge.judge.Judge grader =
        judge == null
            ? null
            : dev.editforge.judge.LocalJudges.byName(
                judge, dev.editforge.judge.JudgeSettings.defaults());

    @Override
    public List<TttResult> score(
        TttArticle article, List<TttEdit> edits, List<String> baselineAnswers) {
      if (baselineAnswers != null) {
        GIVEN_BASELINES
            .get(tag)
            .computeIfAbsent(article.articleId(), k -> new AtomicInteger())
            .incrementAndGet();
      }
      List<TttResult> out = score(article, edits);
      if (baselineAnswers != null) {
        for (TttResult r : out) {
          for (int i = 0; i < r.questions().size(); i++) {
            if (!r.questions().get(i).baselineAnswer().equals(baselineAnswers.get(i))) {
              throw new IllegalStateException("stored baseline answers differ from the fake's");
            }
          }
        }
      }
      return out;
    }

    @Override
    public List<TttResult> score(TttArticle article, List<TttEdit> edits) {
      CALLS
          .get(tag)
          .computeIfAbsent(article.articleId(), k -> new AtomicInteger())
          .incrementAndGet();
      AtomicInteger budget = BUDGET.get(tag);
      if (budget != null && budget.getAndDecrement() <= 0) {
        throw new IllegalStateException("simulated kill while scoring " + article.articleId());
      }
      String s = Long.toString(seed);
      List<TttResult> out = new ArrayList<>();
      for (TttEdit e : edits) {
        List<String> seqs = e.trainSequences(article.title(), article.context(), true);
        SEQUENCES.get(tag).put(e.editId(), seqs);
        long tokens = seqs.stream().mapToLong(q -> q.split("\\s+").length).sum();
        for (int r = 0; r < evalTimes; r++) {
          TRAINED.get(tag).computeIfAbsent(e.editId(), k -> new AtomicInteger()).incrementAndGet();
          List<QuestionResult> qs = new ArrayList<>();
          List<Integer> gains = new ArrayList<>();
          int base = 0;
          int adapted = 0;
          for (int qi = 0; qi < article.questions().size(); qi++) {
            TttQuestion q = article.questions().get(qi);
            boolean b = bit(s, article.articleId(), q.question()) == 1;
            boolean a = bit(s, e.editId(), Integer.toString(r), q.question()) == 1;
            String baseAnswer = "base " + qi;
            String adapterAnswer = "adapted " + r;
            if (grader != null) {
              String gold = q.answers().get(0);
              baseAnswer = answer(gold, s, article.articleId(), q.question());
              adapterAnswer = answer(gold, s, e.editId(), Integer.toString(r), q.question());
              String field =
                  dev.editforge.text.AnswerPrompt.questionField(article.title(), q.question());
              b = grader.correct(field, q.answers(), baseAnswer);
              a = grader.correct(field, q.answers(), adapterAnswer);
            }
            QuestionResult qr =
                new QuestionResult(
                    q.question(), String.join(" | ", q.answers()), baseAnswer, adapterAnswer, b, a);
            qs.add(qr);
            gains.add(qr.gain());
            base += b ? 1 : 0;
            adapted += a ? 1 : 0;
          }
          double n = article.questions().size();
          out.add(
              new TttResult(
                  e.editId(),
                  e.articleId(),
                  r,
                  base / n,
                  adapted / n,
                  adapted / n - base / n,
                  gains,
                  qs,
                  seqs.size(),
                  tokens,
                  0.25 * (r + 1)));
        }
      }
      return out;
    }

    @Override
    public void close() {}
  }
}
