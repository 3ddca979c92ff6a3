package dev.editforge.ttt;

import ai.djl.Device;
import dev.editforge.config.TttSettings;
import dev.editforge.judge.Judge;
import dev.editforge.llm.DecoderModel;
import dev.editforge.llm.LlmTokenizer;
import dev.editforge.llm.LoadedDecoder;
import dev.editforge.lora.LoraAdapter;
import dev.editforge.lora.LoraGenerator;
import dev.editforge.lora.LoraStack;
import dev.editforge.lora.LoraTrainer;
import dev.editforge.lora.OutOfMemory;
import dev.editforge.lora.Seeds;
import dev.editforge.lora.TrainSample;
import dev.editforge.text.AnswerPrompt;
import dev.editforge.text.TrainSequences;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * {@link EditScorer} on a local decoder: SEAL's knowledge-incorporation inner loop, with many
 * adapters trained and evaluated per batch.
 *
 * <p>Per article: the baseline answers (greedy, SEAL's answer prompt, at most {@code
 * max-new-tokens}, stopping at the model's eos) are computed and judged once and shared by all its
 * edits (cached by article id, so later calls for the same article reuse them). Per edit and
 * repeat: SEAL's train sequences ({@link TrainSequences}) are tokenized as Hugging Face's tokenizer
 * does (special tokens added, cut to {@code max-length}), a fresh adapter is trained with seed
 * {@code mix(seed, hash(edit id), repeat)}, every question is answered with it and judged by the
 * injected {@link Judge} (given SEAL's question field {@code "Topic: {title}\n..."}). With {@code
 * train-once}, one adapter per edit is trained (repeat 0's seed) and its evaluation, deterministic
 * under greedy decoding, is reported for every repeat.
 *
 * <p>Up to {@code adapters-per-batch} (edit, repeat) adapters are trained together in one
 * multi-adapter loop and answer in one batched decode ({@link LoraTrainer}, {@link LoraGenerator});
 * when the engine runs out of memory the batch is halved and retried. Results depend only on the
 * inputs and the seed (not on the batch size, up to float rounding).
 *
 * <p>{@code seconds} of a result: its share of its batch's training, answering and judging time
 * plus its share of the article's baseline time. Not thread-safe: one scorer per task thread (they
 * may share one {@link LoadedDecoder}; training passes of concurrent scorers take turns). Does not
 * own the decoder.
 */
public final class LocalEditScorer implements EditScorer {
  private static final int BASELINE_CACHE = 64;

  private final LoadedDecoder decoder;
  private final TttSettings settings;
  private final Judge judge;
  private final Map<String, Baseline> baselines =
      new LinkedHashMap<>(16, 0.75f, true) {
        @Override
        protected boolean removeEldestEntry(Map.Entry<String, Baseline> eldest) {
          return size() > BASELINE_CACHE;
        }
      };
  private final Timings timings = new Timings();
  private int adaptersPerBatch;

  /** Seconds spent so far, by phase (for benchmarks and logs). */
  public static final class Timings {
    public double baseline;
    public double training;
    public double answering;
    public double judging;
    public long adapters;
    public long batches;
    public int oomRetries;

    /** Mean training loss of the last optimizer step of the adapters of the latest batch. */
    public double lastLoss = Double.NaN;

    public double total() {
      return baseline + training + answering + judging;
    }
  }

  private record Baseline(List<String> answers, List<Boolean> correct, double seconds) {}

  private record Job(
      TttEdit edit, int repeat, long seed, List<TrainSample> samples, int sequences, long tokens) {}

  public LocalEditScorer(LoadedDecoder decoder, TttSettings settings, Judge judge) {
    this.decoder = decoder;
    this.settings = settings;
    this.judge = judge;
    this.adaptersPerBatch = settings.adaptersPerBatch();
  }

  public Timings timings() {
    return timings;
  }

  /** The adapters-per-batch in use (lower than configured after an out-of-memory retry). */
  public int adaptersPerBatch() {
    return adaptersPerBatch;
  }

  @Override
  public List<TttResult> score(TttArticle article, List<TttEdit> edits) {
    return score(article, edits, null);
  }

  /**
   * Stored baseline answers (greedy, so what generating them again would give) are judged and
   * cached as the article's baseline instead of being generated.
   */
  @Override
  public List<TttResult> score(
      TttArticle article, List<TttEdit> edits, List<String> baselineAnswers) {
    if (baselineAnswers != null
        && baselineAnswers.size() == article.questions().size()
        && !baselines.containsKey(article.articleId())) {
      long t0 = System.nanoTime();
      List<Boolean> correct = judgeAll(article, baselineAnswers);
      double seconds = (System.nanoTime() - t0) / 1e9;
      timings.judging += seconds;
      baselines.put(
          article.articleId(), new Baseline(List.copyOf(baselineAnswers), correct, seconds));
    }
    // Per thread in libtorch: generation on a Spark task thread must not build autograd graphs.
    ai.djl.pytorch.jni.JniUtils.setGradMode(false);
    List<int[]> prompts = new ArrayList<>();
    for (TttQuestion q : article.questions()) {
      prompts.add(decoder.tokenizer().encode(AnswerPrompt.render(article.title(), q.question())));
    }
    Baseline baseline = baselines.get(article.articleId());
    if (baseline == null) {
      long t0 = System.nanoTime();
      List<String> answers = answer(null, new int[] {0}, prompts).get(0);
      long t1 = System.nanoTime();
      List<Boolean> correct = judgeAll(article, answers);
      long t2 = System.nanoTime();
      timings.baseline += (t1 - t0) / 1e9;
      timings.judging += (t2 - t1) / 1e9;
      baseline = new Baseline(answers, correct, (t2 - t0) / 1e9);
      baselines.put(article.articleId(), baseline);
    }
    List<Job> jobs = new ArrayList<>();
    int trainedRepeats = settings.trainOnce() ? 1 : settings.evalTimes();
    for (TttEdit e : edits) {
      List<String> sequences =
          e.trainSequences(article.title(), article.context(), settings.splitNewlines());
      List<TrainSample> samples = new ArrayList<>();
      long tokens = 0;
      for (String s : sequences) {
        TrainSample sample = sample(s);
        samples.add(sample);
        tokens += sample.length();
      }
      for (int r = 0; r < trainedRepeats; r++) {
        jobs.add(
            new Job(
                e,
                r,
                Seeds.mix(settings.seed(), Seeds.hash(e.editId()), r),
                samples,
                sequences.size(),
                tokens));
      }
    }
    double baselineShare = jobs.isEmpty() ? 0 : baseline.seconds() / jobs.size();
    TttResult[] done = new TttResult[jobs.size()];
    int next = 0;
    while (next < jobs.size()) {
      int n = Math.min(adaptersPerBatch, jobs.size() - next);
      List<Job> batch = jobs.subList(next, next + n);
      try {
        List<TttResult> results = runBatch(article, baseline, prompts, batch, baselineShare);
        for (int i = 0; i < n; i++) {
          done[next + i] = results.get(i);
        }
        next += n;
      } catch (RuntimeException ex) {
        if (!OutOfMemory.is(ex) || n == 1) {
          throw ex;
        }
        adaptersPerBatch = Math.max(1, n / 2);
        timings.oomRetries++;
      }
    }
    List<TttResult> out = new ArrayList<>();
    for (TttResult r : done) {
      if (settings.trainOnce()) {
        for (int rep = 0; rep < settings.evalTimes(); rep++) {
          out.add(
              new TttResult(
                  r.editId(),
                  r.articleId(),
                  rep,
                  r.baselineAccuracy(),
                  r.adapterAccuracy(),
                  r.adapterGain(),
                  r.gains(),
                  r.questions(),
                  r.trainSequences(),
                  r.trainTokens(),
                  r.seconds() / settings.evalTimes()));
        }
      } else {
        out.add(r);
      }
    }
    return out;
  }

  /** A train sequence as Hugging Face tokenizes it, with SEAL's end-mask-substring masking. */
  private TrainSample sample(String text) {
    LlmTokenizer tok = decoder.tokenizer();
    int[] ids = tok.encode(text);
    if (ids.length > settings.maxLength()) {
      ids = Arrays.copyOf(ids, settings.maxLength());
    }
    if (ids.length == 0) {
      ids = new int[] {padId()};
    }
    int[] labels = ids.clone();
    if (!settings.endMaskSubstring().isEmpty()) {
      int[] sub = tok.encode(settings.endMaskSubstring(), false);
      for (int i = 0; sub.length > 0 && i + sub.length <= ids.length; i++) {
        if (Arrays.equals(Arrays.copyOfRange(ids, i, i + sub.length), sub)) {
          Arrays.fill(labels, 0, i + sub.length, TrainSample.IGNORE);
          break;
        }
      }
    }
    return new TrainSample(ids, labels, null, null);
  }

  /** SEAL sets pad = eos. */
  private int padId() {
    int eos = decoder.tokenizer().eosTokenId();
    if (eos >= 0) {
      return eos;
    }
    List<Integer> ids = decoder.model().config().eosTokenIds();
    return ids.isEmpty() ? 0 : ids.get(0);
  }

  private List<TttResult> runBatch(
      TttArticle article,
      Baseline baseline,
      List<int[]> prompts,
      List<Job> batch,
      double baselineShare) {
    DecoderModel model = decoder.model();
    int n = batch.size();
    long t0 = System.nanoTime();
    List<LoraAdapter> init = new ArrayList<>();
    List<List<TrainSample>> data = new ArrayList<>();
    long[] seeds = new long[n];
    for (int i = 0; i < n; i++) {
      init.add(LoraAdapter.initialize(model.config(), settings.lora(), batch.get(i).seed()));
      data.add(batch.get(i).samples());
      seeds[i] = batch.get(i).seed();
    }
    List<List<String>> answers;
    long t1;
    try (LoraStack stack = LoraStack.of(init, model.device())) {
      try (LoraTrainer trainer =
          new LoraTrainer(model, stack, data, settings.train(), seeds, padId())) {
        LoraTrainer.Report report = trainer.train();
        double sum = 0;
        for (double l : report.lastLoss()) {
          sum += l;
        }
        timings.lastLoss = sum / n;
      }
      t1 = System.nanoTime();
      int[] groups = new int[n];
      for (int i = 0; i < n; i++) {
        groups[i] = i;
      }
      answers = answer(stack, groups, prompts);
    }
    long t2 = System.nanoTime();
    List<List<Boolean>> verdicts = new ArrayList<>();
    for (List<String> a : answers) {
      verdicts.add(judgeAll(article, a));
    }
    long t3 = System.nanoTime();
    timings.training += (t1 - t0) / 1e9;
    timings.answering += (t2 - t1) / 1e9;
    timings.judging += (t3 - t2) / 1e9;
    timings.adapters += n;
    timings.batches++;
    double share = (t3 - t0) / 1e9 / n + baselineShare;
    List<TttResult> out = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      Job j = batch.get(i);
      List<Boolean> base = baseline.correct();
      if (settings.rejudgeBaseline()) {
        base = judgeAll(article, baseline.answers());
      }
      out.add(result(article, j, baseline.answers(), base, answers.get(i), verdicts.get(i), share));
    }
    return out;
  }

  private TttResult result(
      TttArticle article,
      Job j,
      List<String> baseAnswers,
      List<Boolean> baseCorrect,
      List<String> answers,
      List<Boolean> correct,
      double seconds) {
    int q = article.questions().size();
    List<QuestionResult> questions = new ArrayList<>();
    List<Integer> gains = new ArrayList<>();
    int baseRight = 0;
    int right = 0;
    for (int i = 0; i < q; i++) {
      TttQuestion tq = article.questions().get(i);
      QuestionResult qr =
          new QuestionResult(
              tq.question(),
              String.join(" | ", tq.answers()),
              baseAnswers.get(i),
              answers.get(i),
              baseCorrect.get(i),
              correct.get(i));
      questions.add(qr);
      gains.add(qr.gain());
      baseRight += baseCorrect.get(i) ? 1 : 0;
      right += correct.get(i) ? 1 : 0;
    }
    double baseAcc = q == 0 ? 0.0 : (double) baseRight / q;
    double acc = q == 0 ? 0.0 : (double) right / q;
    return new TttResult(
        j.edit().editId(),
        article.articleId(),
        j.repeat(),
        baseAcc,
        acc,
        acc - baseAcc,
        gains,
        questions,
        j.sequences(),
        j.tokens(),
        seconds);
  }

  /**
   * Greedy answers of every group to every prompt, in decode batches of at most max-generation-rows
   * rows.
   */
  private List<List<String>> answer(LoraStack stack, int[] groups, List<int[]> prompts) {
    List<List<String>> out = new ArrayList<>();
    Set<Integer> stop = decoder.eosTokenIds();
    int q = Math.max(1, prompts.size());
    int groupsPerDecode = Math.max(1, settings.maxGenerationRows() / q);
    for (int g0 = 0; g0 < groups.length; g0 += groupsPerDecode) {
      int[] part = Arrays.copyOfRange(groups, g0, Math.min(groups.length, g0 + groupsPerDecode));
      int[][][] ids =
          LoraGenerator.greedy(
              decoder.model(), stack, part, prompts, settings.maxNewTokens(), stop);
      for (int[][] group : ids) {
        List<String> texts = new ArrayList<>();
        for (int[] t : group) {
          texts.add(decoder.tokenizer().decode(t));
        }
        out.add(texts);
      }
    }
    return out;
  }

  private List<Boolean> judgeAll(TttArticle article, List<String> answers) {
    List<Judge.Item> items = new ArrayList<>();
    for (int i = 0; i < answers.size(); i++) {
      TttQuestion q = article.questions().get(i);
      items.add(
          new Judge.Item(
              AnswerPrompt.questionField(article.title(), q.question()),
              q.answers(),
              answers.get(i)));
    }
    return judge.correctAll(items);
  }

  /** The device the scorer's model runs on. */
  public Device device() {
    return decoder.model().device();
  }

  @Override
  public void close() {
    baselines.clear();
  }
}
