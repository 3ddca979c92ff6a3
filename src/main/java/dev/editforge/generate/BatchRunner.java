package dev.editforge.generate;

import dev.editforge.io.Ids;
import dev.editforge.llm.ChatMessage;
import dev.editforge.llm.Completion;
import dev.editforge.llm.GenerationRequest;
import dev.editforge.llm.GenerationResult;
import dev.editforge.llm.SamplingParams;
import dev.editforge.llm.TextGenerator;
import dev.editforge.lora.OutOfMemory;
import dev.editforge.text.PyText;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * Runs one task's batch of single-completion jobs through a {@link TextGenerator}, with the two
 * recoveries the generate stage promises: on out-of-memory the batch is halved and each half
 * retried (down to one request, which then fails alone); a blank completion is asked again with a
 * seed derived from its own, up to {@code emptyRetries} times, and then reported as an error. No
 * failure of a request escapes as an exception: every job gets an {@link Outcome}. Not thread-safe
 * (one per task thread, like the generator).
 */
public final class BatchRunner {
  /**
   * One completion to produce: its prompt (the user message), its sampling (n = 1) and seed, and
   * the system message that goes before the prompt (null: none). Without a chat template the system
   * text and a newline are put in front of the prompt.
   */
  public record Job(String id, String prompt, SamplingParams sampling, String system) {
    public Job(String id, String prompt, SamplingParams sampling) {
      this(id, prompt, sampling, null);
    }

    List<ChatMessage> messages() {
      return system == null
          ? List.of(ChatMessage.user(prompt))
          : List.of(ChatMessage.system(system), ChatMessage.user(prompt));
    }

    String text() {
      return system == null ? prompt : system + "\n" + prompt;
    }
  }

  /**
   * What a job produced: the text (null on error), finish reason, the error, the seed that produced
   * the final attempt, tokens generated and attempts made.
   */
  public record Outcome(
      String text,
      String finishReason,
      String error,
      long seed,
      int completionTokens,
      int attempts) {}

  /** Counts for the manifest. */
  public static final class Stats {
    public long completionTokens;
    public long emptyRetries;
    public long oomSplits;
    public long failed;
  }

  private final TextGenerator generator;
  private final boolean chat;
  private final int emptyRetries;
  private final Stats stats = new Stats();

  public BatchRunner(TextGenerator generator, boolean chat, int emptyRetries) {
    this.generator = generator;
    this.chat = chat;
    this.emptyRetries = emptyRetries;
  }

  public Stats stats() {
    return stats;
  }

  /** A seed derived from {@code base} and the parts (non-negative, stable across JVMs). */
  public static long seed(long base, String... parts) {
    String[] all = new String[parts.length + 1];
    all[0] = Long.toString(base);
    System.arraycopy(parts, 0, all, 1, parts.length);
    return Long.parseUnsignedLong(Ids.of(all).substring(0, 16), 16) & Long.MAX_VALUE;
  }

  /** The seed of attempt {@code attempt} (0 = the job's own seed). */
  public static long attemptSeed(long seed, int attempt) {
    return attempt == 0 ? seed : seed(seed, "empty-retry", Integer.toString(attempt));
  }

  public List<Outcome> run(List<Job> jobs) {
    Outcome[] out = new Outcome[jobs.size()];
    List<Integer> pending = new ArrayList<>();
    for (int i = 0; i < jobs.size(); i++) {
      pending.add(i);
    }
    for (int attempt = 0; attempt <= emptyRetries && !pending.isEmpty(); attempt++) {
      List<GenerationRequest> requests = new ArrayList<>();
      for (int i : pending) {
        Job j = jobs.get(i);
        SamplingParams s =
            j.sampling().withN(1).withSeed(attemptSeed(j.sampling().seed(), attempt));
        requests.add(
            chat
                ? GenerationRequest.chat(j.id(), j.messages(), s)
                : GenerationRequest.text(j.id(), j.text(), s));
      }
      List<GenerationResult> results = generateSplitting(requests);
      List<Integer> blank = new ArrayList<>();
      for (int p = 0; p < pending.size(); p++) {
        int i = pending.get(p);
        GenerationResult r = results.get(p);
        long seed = requests.get(p).sampling().seed();
        if (!r.ok()) {
          out[i] = new Outcome(null, null, r.error(), seed, 0, attempt + 1);
          continue;
        }
        Completion c = r.completions().isEmpty() ? null : r.completions().get(0);
        int tokens = c == null ? 0 : c.completionTokens();
        stats.completionTokens += tokens;
        if (c == null || PyText.isBlank(c.text())) {
          String finish =
              c == null || c.finishReason() == null ? null : c.finishReason().wireName();
          out[i] =
              new Outcome(
                  c == null ? null : c.text(),
                  finish,
                  String.format(
                      Locale.ROOT,
                      "empty completion after %d attempt%s (editforge.generate.empty-retries = %d)",
                      attempt + 1,
                      attempt == 0 ? "" : "s",
                      emptyRetries),
                  seed,
                  tokens,
                  attempt + 1);
          blank.add(i);
          continue;
        }
        out[i] =
            new Outcome(
                c.text(),
                c.finishReason() == null ? null : c.finishReason().wireName(),
                null,
                seed,
                tokens,
                attempt + 1);
      }
      if (attempt < emptyRetries) {
        stats.emptyRetries += blank.size();
      }
      pending = blank;
    }
    List<Outcome> list = List.of(out);
    for (Outcome o : list) {
      if (o.error() != null) {
        stats.failed++;
      }
    }
    return list;
  }

  /**
   * Generates, halving the batch on out-of-memory; any other exception fails that call's requests.
   */
  private List<GenerationResult> generateSplitting(List<GenerationRequest> requests) {
    try {
      List<GenerationResult> r = generator.generate(requests);
      if (r.size() != requests.size()) {
        throw new IllegalStateException(
            "the generator returned " + r.size() + " results for " + requests.size() + " requests");
      }
      return r;
    } catch (RuntimeException | OutOfMemoryError e) {
      if (OutOfMemory.is(e) && requests.size() > 1) {
        stats.oomSplits++;
        int half = requests.size() / 2;
        List<GenerationResult> out = new ArrayList<>(generateSplitting(requests.subList(0, half)));
        out.addAll(generateSplitting(requests.subList(half, requests.size())));
        return out;
      }
      String why =
          OutOfMemory.is(e)
              ? "out of memory even for a single request: " + e.getMessage()
              : "generation failed: " + e;
      List<GenerationResult> out = new ArrayList<>();
      for (GenerationRequest r : requests) {
        out.add(GenerationResult.failed(r.id(), why));
      }
      return out;
    }
  }
}
