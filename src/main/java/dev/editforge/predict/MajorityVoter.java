package dev.editforge.predict;

import dev.editforge.io.Ids;
import dev.editforge.llm.ChatMessage;
import dev.editforge.llm.GenerationRequest;
import dev.editforge.llm.GenerationResult;
import dev.editforge.llm.SamplingParams;
import dev.editforge.llm.TextGenerator;
import dev.editforge.text.LogicSftRecipe;
import java.io.Serializable;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Seed 004's answering loop over many questions at once: per attempt, {@code voter} sampled
 * responses of every question still open (batched together), each cut at the cut strings and read
 * for {@code 答案是:X}; the vote ({@link LogicSftRecipe#vote}, "no answer" counts) decides. A question
 * whose winner is "no answer" gets the fallback letter and is asked again while attempts remain;
 * after the last attempt it keeps the fallback. A failed request counts as a response with no
 * answer. Each request's seed derives from (seed, question, attempt, vote), so the answers do not
 * depend on batching. Not thread-safe (it drives one generator).
 */
public final class MajorityVoter {
  /** What a question ended with: its answer, the attempts used and every attempt's samples. */
  public record Answer(
      String answer, int attempts, boolean fallback, List<String> votes, List<String> responses)
      implements Serializable {
    public Answer {
      votes = java.util.Collections.unmodifiableList(new ArrayList<>(votes));
      responses = java.util.Collections.unmodifiableList(new ArrayList<>(responses));
    }
  }

  private final TextGenerator generator;
  private final PredictSettings settings;

  public MajorityVoter(TextGenerator generator, PredictSettings settings) {
    this.generator = generator;
    this.settings = settings;
  }

  /** The prompt of one question: the recipe's inference prompt. */
  public static String prompt(LogicInput.Question q) {
    return LogicSftRecipe.inferencePrompt(q.problem(), q.question(), q.options());
  }

  /** The request id of a sample; the attempt and vote are what a scripted test generator reads. */
  public static String requestId(int question, int attempt, int vote) {
    return "q" + question + "-a" + attempt + "-v" + vote;
  }

  public List<Answer> answer(List<LogicInput.Question> questions) {
    int n = questions.size();
    String[] answer = new String[n];
    int[] attempts = new int[n];
    boolean[] fallback = new boolean[n];
    List<List<String>> votes = new ArrayList<>();
    List<List<String>> responses = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      votes.add(new ArrayList<>());
      responses.add(new ArrayList<>());
    }
    List<Integer> open = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      open.add(i);
    }
    for (int attempt = 0; attempt < settings.attempts() && !open.isEmpty(); attempt++) {
      List<GenerationRequest> requests = new ArrayList<>();
      for (int i : open) {
        String prompt = prompt(questions.get(i));
        for (int v = 0; v < settings.voter(); v++) {
          SamplingParams s =
              new SamplingParams(
                  settings.maxNewTokens(),
                  settings.temperature(),
                  settings.topP(),
                  settings.topK(),
                  1,
                  settings.cutAt(),
                  List.of(),
                  seed(settings.seed(), questions.get(i).key(), attempt, v));
          String id = requestId(i, attempt, v);
          requests.add(
              settings.chat()
                  ? GenerationRequest.chat(id, List.of(ChatMessage.user(prompt)), s)
                  : GenerationRequest.text(id, prompt, s));
        }
      }
      List<String> texts = generate(requests);
      List<Integer> stillOpen = new ArrayList<>();
      int r = 0;
      for (int i : open) {
        List<String> sampled = texts.subList(r, r + settings.voter());
        r += settings.voter();
        List<String> extracted = LogicSftRecipe.answers(sampled, settings.cutAt());
        responses.get(i).addAll(sampled);
        votes.get(i).addAll(extracted);
        attempts[i] = attempt + 1;
        String winner = LogicSftRecipe.vote(extracted);
        if (winner != null) {
          answer[i] = winner;
          fallback[i] = false;
        } else {
          answer[i] = settings.fallback();
          fallback[i] = true;
          stillOpen.add(i);
        }
      }
      open = stillOpen;
    }
    List<Answer> out = new ArrayList<>(n);
    for (int i = 0; i < n; i++) {
      out.add(new Answer(answer[i], attempts[i], fallback[i], votes.get(i), responses.get(i)));
    }
    return out;
  }

  /** The texts of {@code requests} in order, in batches of {@code batch-size}; null on failure. */
  private List<String> generate(List<GenerationRequest> requests) {
    String[] out = new String[requests.size()];
    for (int from = 0; from < requests.size(); from += settings.batchSize()) {
      List<GenerationRequest> batch =
          requests.subList(from, Math.min(requests.size(), from + settings.batchSize()));
      List<GenerationResult> results = generator.generate(batch);
      if (results.size() != batch.size()) {
        throw new IllegalStateException(
            "the generator returned " + results.size() + " results for " + batch.size());
      }
      for (int k = 0; k < batch.size(); k++) {
        GenerationResult res = results.get(k);
        out[from + k] =
            res.ok() && !res.completions().isEmpty() ? res.completions().get(0).text() : null;
      }
    }
    return Arrays.asList(out);
  }

  /** A request's seed: non-negative, stable across JVMs and batchings. */
  static long seed(long base, String key, int attempt, int vote) {
    String h =
        Ids.of(
            "predict", Long.toString(base), key, Integer.toString(attempt), Integer.toString(vote));
    return Long.parseUnsignedLong(h.substring(0, 16), 16) & Long.MAX_VALUE;
  }
}
