package dev.editforge.llm.remote;

import dev.editforge.llm.GenerationRequest;
import dev.editforge.llm.GenerationResult;
import dev.editforge.llm.LogprobGenerator;
import dev.editforge.llm.LogprobRequest;
import dev.editforge.llm.LogprobResult;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * {@link dev.editforge.llm.TextGenerator} backed by an OpenAI-compatible server. A batch is sent
 * concurrently (at most {@code max-concurrency} requests in flight, enforced by the client) and
 * comes back in request order; a request that still fails after its retries gets an error result
 * while the rest of the batch goes on.
 *
 * <p>Thread-safe. Owns a small thread pool (the HTTP calls block) and, when built from settings,
 * its {@link OpenAiClient}; {@link #close()} releases both. A generator built on a borrowed client
 * (e.g. one per LoRA adapter name) leaves that client open.
 */
public final class OpenAiGenerator implements LogprobGenerator {
  private static final AtomicInteger POOLS = new AtomicInteger();

  private final OpenAiClient client;
  private final boolean ownsClient;
  private final String model;
  private final ExecutorService pool;

  /** A generator with its own client; the key comes from the process environment. */
  public OpenAiGenerator(RemoteSettings settings) {
    this(new OpenAiClient(settings), true, settings.model());
  }

  /** A generator on a shared client, asking for {@code model} (null: the client's default). */
  public OpenAiGenerator(OpenAiClient client, String model) {
    this(client, false, model == null ? client.settings().model() : model);
  }

  private OpenAiGenerator(OpenAiClient client, boolean ownsClient, String model) {
    this.client = client;
    this.ownsClient = ownsClient;
    this.model = model;
    int cap = client.settings().maxConcurrency();
    // More threads than permits, so that requests sleeping in backoff do not starve the cap.
    int threads = Math.min(2 * cap, cap + 64);
    int id = POOLS.incrementAndGet();
    AtomicInteger n = new AtomicInteger();
    this.pool =
        Executors.newFixedThreadPool(
            threads,
            r -> {
              Thread t = new Thread(r, "openai-" + id + "-" + n.incrementAndGet());
              t.setDaemon(true);
              return t;
            });
  }

  @Override
  public List<GenerationResult> generate(List<GenerationRequest> requests) {
    List<CompletableFuture<GenerationResult>> futures = new ArrayList<>(requests.size());
    for (GenerationRequest r : requests) {
      futures.add(CompletableFuture.supplyAsync(() -> client.generate(model, r), pool));
    }
    List<GenerationResult> out = new ArrayList<>(requests.size());
    for (int i = 0; i < futures.size(); i++) {
      try {
        out.add(futures.get(i).join());
      } catch (CompletionException | java.util.concurrent.CancellationException e) {
        Throwable c = e.getCause() == null ? e : e.getCause();
        out.add(GenerationResult.failed(requests.get(i).id(), "remote generation failed: " + c));
      }
    }
    return out;
  }

  /**
   * As {@link #generate}, with per-token log-probabilities ({@link
   * OpenAiClient#generateWithLogprobs}).
   */
  @Override
  public List<LogprobResult> generateWithLogprobs(
      List<GenerationRequest> requests, LogprobRequest what) {
    List<CompletableFuture<LogprobResult>> futures = new ArrayList<>(requests.size());
    for (GenerationRequest r : requests) {
      futures.add(
          CompletableFuture.supplyAsync(() -> client.generateWithLogprobs(model, r, what), pool));
    }
    List<LogprobResult> out = new ArrayList<>(requests.size());
    for (int i = 0; i < futures.size(); i++) {
      try {
        out.add(futures.get(i).join());
      } catch (CompletionException | java.util.concurrent.CancellationException e) {
        Throwable c = e.getCause() == null ? e : e.getCause();
        out.add(LogprobResult.failed(requests.get(i).id(), "remote generation failed: " + c));
      }
    }
    return out;
  }

  @Override
  public String modelName() {
    return model != null ? model : client.settings().endpoint().toString();
  }

  public OpenAiClient client() {
    return client;
  }

  @Override
  public void close() {
    pool.shutdownNow();
    if (ownsClient) {
      client.close();
    }
  }
}
