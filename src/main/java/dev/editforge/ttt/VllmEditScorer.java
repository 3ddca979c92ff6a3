package dev.editforge.ttt;

import dev.editforge.io.Ids;
import dev.editforge.judge.Judge;
import dev.editforge.llm.GenerationRequest;
import dev.editforge.llm.GenerationResult;
import dev.editforge.llm.SamplingParams;
import dev.editforge.llm.remote.OpenAiClient;
import dev.editforge.text.AnswerPrompt;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SEAL's server mode: the base model is served by vLLM (with {@code --enable-lora}); per article
 * the base model answers the questions once (the baseline); per edit and repeat a LoRA adapter is
 * trained by the {@link AdapterTrainer}, loaded with {@code POST /v1/load_lora_adapter}, asked the
 * same questions with {@code model = <adapter name>}, and unloaded with {@code POST
 * /v1/unload_lora_adapter} (also when answering failed). Answers use SEAL's prompt, greedy, at most
 * 64 new tokens, through {@code /v1/completions}; the judge grades them. Not thread-safe (the
 * trainer is not); the owner closes it, which closes the trainer and the client.
 */
public final class VllmEditScorer implements EditScorer {
  private static final Logger LOG = LoggerFactory.getLogger(VllmEditScorer.class);

  /** SEAL's answer budget. */
  public static final int MAX_ANSWER_TOKENS = 64;

  private final OpenAiClient client;
  private final String baseModel;
  private final AdapterTrainer trainer;
  private final Judge judge;
  private final int evalTimes;
  private final long seed;

  /**
   * @param baseModel the base model's served name (the baseline's {@code model})
   */
  public VllmEditScorer(
      OpenAiClient client,
      String baseModel,
      AdapterTrainer trainer,
      Judge judge,
      int evalTimes,
      long seed) {
    this.client = client;
    this.baseModel = baseModel;
    this.trainer = trainer;
    this.judge = judge;
    this.evalTimes = evalTimes;
    this.seed = seed;
  }

  /** The seed of one repeat: depends only on (seed, edit, repeat), never on scheduling order. */
  public static long repeatSeed(long seed, String editId, int repeat) {
    return Long.parseUnsignedLong(
        Ids.of(Long.toString(seed), editId, Integer.toString(repeat)).substring(0, 15), 16);
  }

  @Override
  public List<TttResult> score(TttArticle article, List<TttEdit> edits) {
    List<String> baseline = answers(baseModel, article);
    List<Boolean> baselineCorrect = grade(article, baseline);
    List<TttResult> out = new ArrayList<>();
    for (TttEdit edit : edits) {
      List<String> sequences = edit.trainSequences(article.title(), article.context(), true);
      for (int r = 0; r < evalTimes; r++) {
        long t0 = System.nanoTime();
        AdapterTrainer.Adapter adapter;
        try {
          adapter = trainer.train(sequences, repeatSeed(seed, edit.editId(), r));
        } catch (Exception e) {
          throw new IllegalStateException(
              "training the adapter of edit " + edit.editId() + " failed: " + e.getMessage(), e);
        }
        String name =
            "editforge-"
                + edit.editId()
                + "-"
                + r
                + "-"
                + UUID.randomUUID().toString().substring(0, 8);
        List<String> adapted;
        client.loadLoraAdapter(name, adapter.path());
        try {
          adapted = answers(name, article);
        } finally {
          try {
            client.unloadLoraAdapter(name);
          } catch (RuntimeException e) {
            LOG.warn(
                "could not unload LoRA adapter {} from {}: {}",
                name,
                client.settings().endpoint(),
                e.getMessage());
          }
          trainer.discard(adapter);
        }
        List<Boolean> adaptedCorrect = grade(article, adapted);
        out.add(
            result(
                article,
                edit,
                r,
                baseline,
                baselineCorrect,
                adapted,
                adaptedCorrect,
                sequences.size(),
                adapter.trainTokens(),
                (System.nanoTime() - t0) / 1e9));
      }
    }
    return out;
  }

  static TttResult result(
      TttArticle article,
      TttEdit edit,
      int repeat,
      List<String> baseline,
      List<Boolean> baselineCorrect,
      List<String> adapted,
      List<Boolean> adaptedCorrect,
      int sequences,
      long tokens,
      double seconds) {
    List<QuestionResult> qs = new ArrayList<>();
    List<Integer> gains = new ArrayList<>();
    int b = 0;
    int a = 0;
    for (int i = 0; i < article.questions().size(); i++) {
      TttQuestion q = article.questions().get(i);
      QuestionResult qr =
          new QuestionResult(
              q.question(),
              String.join(" | ", q.answers()),
              baseline.get(i),
              adapted.get(i),
              baselineCorrect.get(i),
              adaptedCorrect.get(i));
      qs.add(qr);
      gains.add(qr.gain());
      b += qr.baselineCorrect() ? 1 : 0;
      a += qr.adapterCorrect() ? 1 : 0;
    }
    double n = Math.max(1, article.questions().size());
    return new TttResult(
        edit.editId(),
        edit.articleId(),
        repeat,
        b / n,
        a / n,
        (a - b) / n,
        gains,
        qs,
        sequences,
        tokens,
        seconds);
  }

  private List<String> answers(String model, TttArticle article) {
    List<String> out = new ArrayList<>();
    for (int i = 0; i < article.questions().size(); i++) {
      String prompt = AnswerPrompt.render(article.title(), article.questions().get(i).question());
      GenerationResult g =
          client.generate(
              model,
              GenerationRequest.text(
                  article.articleId() + "/" + i, prompt, SamplingParams.greedy(MAX_ANSWER_TOKENS)));
      if (!g.ok() || g.completions().isEmpty()) {
        throw new IllegalStateException(
            "answering question "
                + i
                + " of article "
                + article.articleId()
                + " with "
                + model
                + " failed: "
                + g.error());
      }
      out.add(g.completions().get(0).text());
    }
    return out;
  }

  private List<Boolean> grade(TttArticle article, List<String> answers) {
    List<Boolean> out = new ArrayList<>();
    for (int i = 0; i < answers.size(); i++) {
      TttQuestion q = article.questions().get(i);
      out.add(
          judge.correct(
              AnswerPrompt.questionField(article.title(), q.question()),
              q.answers(),
              answers.get(i)));
    }
    return out;
  }

  @Override
  public void close() {
    try {
      trainer.close();
    } finally {
      client.close();
    }
  }
}
