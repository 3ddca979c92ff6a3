package dev.editforge.llm.remote;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.editforge.llm.ChatMessage;
import dev.editforge.llm.Completion;
import dev.editforge.llm.FinishReason;
import dev.editforge.llm.GenerationRequest;
import dev.editforge.llm.GenerationResult;
import dev.editforge.llm.LogprobRequest;
import dev.editforge.llm.LogprobResult;
import dev.editforge.llm.SamplingParams;
import dev.editforge.llm.TokenLogprobs;
import dev.editforge.llm.net.Backoff;
import dev.editforge.llm.net.Secrets;
import dev.editforge.text.Json;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.net.http.HttpTimeoutException;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.function.Consumer;
import java.util.function.DoubleSupplier;
import org.slf4j.LoggerFactory;

/**
 * The low-level client of an OpenAI-compatible server: completions, chat completions and vLLM's
 * LoRA adapter endpoints, with a cap on requests in flight, timeouts, and retries with full-jitter
 * exponential backoff on 408, 429, 5xx, timeouts and connection errors (honouring {@code
 * Retry-After}, capped by max-backoff).
 *
 * <p>Thread-safe: share one instance between threads; the in-flight cap holds across all of them.
 * Owns one {@link HttpClient}; whoever builds the client closes it. The API key is read once from
 * the environment variable named in the settings and appears in no message or log.
 */
public final class OpenAiClient implements AutoCloseable {
  private static final ObjectMapper JSON = Json.COMPACT;

  private final RemoteSettings settings;
  private final String apiKey;
  private final HttpClient http;
  private final Semaphore inFlight;
  private final Backoff backoff;
  private final Consumer<String> log;
  private final DoubleSupplier random;

  /** A client whose key comes from the process environment. */
  public OpenAiClient(RemoteSettings settings) {
    this(settings, System.getenv());
  }

  /** A client whose key comes from {@code env} (tests and callers with their own environment). */
  public OpenAiClient(RemoteSettings settings, Map<String, String> env) {
    this(
        settings,
        env,
        LoggerFactory.getLogger(OpenAiClient.class)::warn,
        () -> ThreadLocalRandom.current().nextDouble());
  }

  OpenAiClient(
      RemoteSettings settings,
      Map<String, String> env,
      Consumer<String> log,
      DoubleSupplier random) {
    this.settings = settings;
    String key = settings.apiKeyEnv() == null ? null : env.get(settings.apiKeyEnv());
    this.apiKey = key == null || key.isBlank() ? null : key.trim();
    this.inFlight = new Semaphore(settings.maxConcurrency(), true);
    this.backoff = new Backoff(settings.initialBackoff(), settings.maxBackoff());
    this.log = log;
    this.random = random;
    // HTTP/1.1: the servers this talks to are uvicorn/llama.cpp; an h2c upgrade buys nothing.
    this.http =
        HttpClient.newBuilder()
            .version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(settings.connectTimeout())
            .followRedirects(HttpClient.Redirect.NEVER)
            .build();
  }

  public RemoteSettings settings() {
    return settings;
  }

  /**
   * Completes one request with {@code model} (null: the settings' model), routing text prompts to
   * {@code /completions} and conversations to {@code /chat/completions}. Never throws: a failure
   * after the retries is the result's {@code error}.
   */
  public GenerationResult generate(String model, GenerationRequest request) {
    try {
      return complete(model, request);
    } catch (RemoteException e) {
      return GenerationResult.failed(request.id(), e.getMessage());
    }
  }

  /**
   * The first choice's text of a chat completion (the LLM judge's call).
   *
   * @param model null for the settings' model
   * @throws RemoteException when the call fails after its retries or the reply has no text
   */
  public String chat(String model, List<ChatMessage> messages, SamplingParams sampling) {
    GenerationResult r =
        complete(model, GenerationRequest.chat("chat", messages, sampling.withN(1)));
    if (!r.ok()) {
      throw new RemoteException(
          "POST " + url("/chat/completions") + ": " + r.error(), 200, 1, null);
    }
    return r.completions().get(0).text();
  }

  private GenerationResult complete(String model, GenerationRequest request) {
    String path = request.isChat() ? "/chat/completions" : "/completions";
    String body = post(path, requestBody(model == null ? settings.model() : model, request));
    try {
      return parse(request.id(), request.isChat(), JSON.readTree(body));
    } catch (IOException | RuntimeException e) {
      throw new RemoteException(
          "POST " + url(path) + ": unreadable response: " + clean(String.valueOf(e.getMessage())),
          200,
          1,
          e);
    }
  }

  /**
   * Completes one request (its first completion) asking the server for each generated token's
   * log-probability and its {@code what.topK()} most likely alternatives ({@code logprobs} on
   * {@code /completions}, {@code logprobs} + {@code top_logprobs} on {@code /chat/completions}).
   * The protocol cannot ask for named tokens: one outside the server's top-k is absent from the
   * step. Never throws.
   */
  public LogprobResult generateWithLogprobs(
      String model, GenerationRequest request, LogprobRequest what) {
    String path = request.isChat() ? "/chat/completions" : "/completions";
    try {
      ObjectNode body = requestBody(model == null ? settings.model() : model, request);
      body.put("n", 1);
      if (request.isChat()) {
        body.put("logprobs", true);
        body.put("top_logprobs", what.topK());
      } else {
        body.put("logprobs", what.topK());
      }
      String reply = post(path, body);
      try {
        return parseLogprobs(request.id(), request.isChat(), JSON.readTree(reply));
      } catch (IOException | RuntimeException e) {
        return LogprobResult.failed(
            request.id(),
            "POST "
                + url(path)
                + ": unreadable response: "
                + clean(String.valueOf(e.getMessage())));
      }
    } catch (RemoteException e) {
      return LogprobResult.failed(request.id(), e.getMessage());
    }
  }

  /**
   * Maps a reply with log-probabilities onto {@link TokenLogprobs}: the completions shape ({@code
   * logprobs.tokens}, {@code token_logprobs}, {@code top_logprobs} as token → log-prob objects) or
   * the chat shape ({@code logprobs.content[]} of {@code token}, {@code logprob}, {@code
   * top_logprobs[]}). Package-private for tests.
   */
  static LogprobResult parseLogprobs(String requestId, boolean chat, JsonNode response) {
    GenerationResult r = parse(requestId, chat, response);
    if (!r.ok()) {
      return LogprobResult.failed(requestId, r.error());
    }
    JsonNode choice = null;
    for (JsonNode c : response.path("choices")) {
      if (choice == null || c.path("index").asInt(0) < choice.path("index").asInt(0)) {
        choice = c;
      }
    }
    JsonNode lp = choice.path("logprobs");
    List<TokenLogprobs.Step> steps = new ArrayList<>();
    if (lp.has("content")) {
      for (JsonNode t : lp.path("content")) {
        Map<String, Double> top = new java.util.HashMap<>();
        for (JsonNode alt : t.path("top_logprobs")) {
          top.put(alt.path("token").asText(), alt.path("logprob").asDouble());
        }
        steps.add(
            new TokenLogprobs.Step(
                -1, t.path("token").asText(), t.path("logprob").asDouble(), top));
      }
    } else if (lp.has("tokens")) {
      JsonNode tokens = lp.path("tokens");
      for (int i = 0; i < tokens.size(); i++) {
        Map<String, Double> top = new java.util.HashMap<>();
        JsonNode alts = lp.path("top_logprobs").path(i);
        alts.fields().forEachRemaining(e -> top.put(e.getKey(), e.getValue().asDouble()));
        JsonNode chosen = lp.path("token_logprobs").path(i);
        steps.add(
            new TokenLogprobs.Step(
                -1,
                tokens.get(i).asText(),
                chosen.isNumber() ? chosen.asDouble() : TokenLogprobs.ABSENT,
                top));
      }
    } else {
      return LogprobResult.failed(
          requestId,
          "the server's reply has no logprobs (does it support the logprobs parameter?)");
    }
    return new LogprobResult(requestId, r.completions().get(0), new TokenLogprobs(steps), null);
  }

  /** {@link #chat(String, List, SamplingParams)} of one user message with the settings' model. */
  public String chat(String prompt, SamplingParams sampling) {
    return chat(null, List.of(ChatMessage.user(prompt)), sampling);
  }

  /** vLLM: loads a LoRA adapter from a path the server can read; then use its name as the model. */
  public void loadLoraAdapter(String loraName, String loraPath) {
    ObjectNode body = JSON.createObjectNode().put("lora_name", loraName).put("lora_path", loraPath);
    post("/load_lora_adapter", body);
  }

  /** vLLM: unloads a LoRA adapter loaded by {@link #loadLoraAdapter}. */
  public void unloadLoraAdapter(String loraName) {
    post("/unload_lora_adapter", JSON.createObjectNode().put("lora_name", loraName));
  }

  /**
   * POSTs JSON to {@code endpoint + path} with the in-flight cap and retries; returns the body of
   * the 2xx response as text (vLLM's LoRA endpoints answer plain text, not JSON).
   *
   * @throws RemoteException when the call fails for good
   */
  public String post(String path, JsonNode body) {
    URI uri = url(path);
    byte[] bytes;
    try {
      bytes = JSON.writeValueAsBytes(body);
    } catch (IOException e) {
      throw new IllegalArgumentException("cannot serialize request body", e);
    }
    RowClock clock = new RowClock(settings.maxRowTime());
    for (int attempt = 1; ; attempt++) {
      Outcome o = once(uri, bytes, clock);
      if (o.ok()) {
        return o.body();
      }
      String what = "POST " + uri + ": " + o.problem();
      String tries = attempt == 1 ? "" : " (after " + attempt + " attempts)";
      if (!o.retryable() || attempt > settings.maxRetries()) {
        throw new RemoteException(what + tries, o.status(), attempt, null);
      }
      Duration wait = backoff.delay(attempt - 1, o.retryAfter(), random);
      if (wait.compareTo(clock.left()) >= 0) {
        throw new RemoteException(what + "; " + clock.spent() + tries, o.status(), attempt, null);
      }
      log.accept(
          what
              + "; retry "
              + attempt
              + "/"
              + settings.maxRetries()
              + " in "
              + wait.toMillis()
              + " ms");
      try {
        Thread.sleep(wait.toMillis());
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new RemoteException(
            what + "; interrupted while waiting to retry", o.status(), attempt, e);
      }
    }
  }

  /**
   * The time one request (a row) has left over all its attempts and backoffs. It starts when the
   * first attempt is sent, not while the request queues for the in-flight cap: waiting behind the
   * client's own throttle is not the server's fault. Confined to the request's thread.
   */
  private static final class RowClock {
    private final Duration limit;
    private long startNanos = -1;

    RowClock(Duration limit) {
      this.limit = limit;
    }

    void start() {
      if (startNanos < 0) {
        startNanos = System.nanoTime();
      }
    }

    Duration left() {
      long used = startNanos < 0 ? 0 : System.nanoTime() - startNanos;
      return limit.minusNanos(used);
    }

    String spent() {
      return "gave up: the row's time limit (remote.max-row-seconds = "
          + limit.toMillis() / 1000.0
          + " s) is spent";
    }
  }

  /** One attempt's outcome: a body, or a problem that may be worth retrying. */
  private record Outcome(
      boolean ok,
      String body,
      int status,
      String problem,
      boolean retryable,
      Optional<Duration> retryAfter) {
    static Outcome success(String body) {
      return new Outcome(true, body, 200, null, false, Optional.empty());
    }

    static Outcome failure(
        int status, String problem, boolean retryable, Optional<Duration> retryAfter) {
      return new Outcome(false, null, status, problem, retryable, retryAfter);
    }
  }

  private Outcome once(URI uri, byte[] body, RowClock clock) {
    try {
      inFlight.acquire();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return Outcome.failure(-1, "interrupted", false, Optional.empty());
    }
    clock.start();
    // An attempt gets the request timeout or what is left of the row's time, whichever is less;
    // when the row's time cut it short, retrying cannot help.
    Duration left = clock.left();
    boolean rowLimited = left.compareTo(settings.requestTimeout()) < 0;
    Duration timeout = rowLimited ? left : settings.requestTimeout();
    if (timeout.toMillis() <= 0) {
      inFlight.release();
      return Outcome.failure(-1, clock.spent(), false, Optional.empty());
    }
    String noResponse =
        "no response within "
            + timeout.toMillis()
            + " ms"
            + (rowLimited ? "; " + clock.spent() : "");
    HttpRequest.Builder b =
        HttpRequest.newBuilder(uri)
            .timeout(timeout)
            .header("Content-Type", "application/json")
            .header("Accept", "application/json")
            .POST(HttpRequest.BodyPublishers.ofByteArray(body));
    if (apiKey != null) {
      b.header("Authorization", "Bearer " + apiKey);
    }
    HttpResponse<String> r;
    CompletableFuture<HttpResponse<String>> f = null;
    try {
      // HttpRequest.timeout covers the wait for the headers only; the outer wait bounds the body.
      f = http.sendAsync(b.build(), HttpResponse.BodyHandlers.ofString());
      long outerMillis = rowLimited ? timeout.toMillis() : timeout.toMillis() + 1000;
      r = f.get(outerMillis, TimeUnit.MILLISECONDS);
    } catch (TimeoutException e) {
      f.cancel(true);
      return Outcome.failure(-1, noResponse, !rowLimited, Optional.empty());
    } catch (ExecutionException e) {
      Throwable c = e.getCause();
      boolean timedOut = c instanceof HttpTimeoutException;
      String why =
          timedOut
              ? noResponse
              : c.getClass().getSimpleName()
                  + (c.getMessage() == null ? "" : ": " + clean(c.getMessage()));
      return Outcome.failure(-1, why, !(timedOut && rowLimited), Optional.empty());
    } catch (InterruptedException e) {
      f.cancel(true);
      Thread.currentThread().interrupt();
      return Outcome.failure(-1, "interrupted", false, Optional.empty());
    } finally {
      inFlight.release();
    }
    int sc = r.statusCode();
    if (sc >= 200 && sc < 300) {
      return Outcome.success(r.body());
    }
    boolean retryable = sc == 408 || sc == 429 || sc >= 500;
    Optional<Duration> retryAfter =
        Backoff.parseRetryAfter(r.headers().firstValue("Retry-After").orElse(null), Instant.now());
    return Outcome.failure(sc, "HTTP " + sc + serverMessage(r.body()), retryable, retryAfter);
  }

  /**
   * The server's error text: OpenAI's {@code error.message}, vLLM's {@code message}, or the body.
   */
  private String serverMessage(String body) {
    if (body == null || body.isBlank()) {
      return "";
    }
    String text = body;
    try {
      JsonNode n = JSON.readTree(body);
      JsonNode m = n.path("error").isObject() ? n.path("error").path("message") : n.path("message");
      if (m.isTextual()) {
        text = m.asText();
      } else if (n.path("error").isTextual()) {
        text = n.path("error").asText();
      }
    } catch (IOException notJson) {
      // plain-text error body: shown as is
    }
    return ": " + Secrets.snippet(text, 300, apiKey);
  }

  /** The JSON body of a (chat) completion request. Package-private for tests. */
  static ObjectNode requestBody(String model, GenerationRequest request) {
    SamplingParams s = request.sampling();
    ObjectNode body = JSON.createObjectNode();
    if (model != null) {
      body.put("model", model);
    }
    if (request.isChat()) {
      ArrayNode messages = body.putArray("messages");
      for (ChatMessage m : request.messages()) {
        messages.addObject().put("role", m.role()).put("content", m.content());
      }
    } else {
      body.put("prompt", request.prompt());
    }
    body.put("n", s.n());
    body.put("max_tokens", s.maxNewTokens());
    body.put("temperature", s.temperature());
    body.put("top_p", s.topP());
    body.put("seed", s.seed());
    if (!s.stop().isEmpty()) {
      ArrayNode stop = body.putArray("stop");
      s.stop().forEach(stop::add);
    }
    // vLLM extensions: sent only when used, because OpenAI itself rejects unknown fields.
    if (s.topK() > 0) {
      body.put("top_k", s.topK());
    }
    if (!s.stopTokenIds().isEmpty()) {
      ArrayNode ids = body.putArray("stop_token_ids");
      s.stopTokenIds().forEach(ids::add);
    }
    if (!s.skipSpecialTokens()) {
      body.put("skip_special_tokens", false);
    }
    return body;
  }

  /**
   * Maps a response to a result. Servers report completion tokens only in total: with {@code n > 1}
   * each completion gets an even share (the sum is exact). Token ids are not part of the protocol,
   * so completions carry none.
   */
  static GenerationResult parse(String requestId, boolean chat, JsonNode response) {
    if (response.has("error") && !response.path("error").isNull()) {
      JsonNode e = response.path("error");
      return GenerationResult.failed(
          requestId, "server error: " + (e.isObject() ? e.path("message").asText() : e.asText()));
    }
    JsonNode choices = response.path("choices");
    if (!choices.isArray() || choices.isEmpty()) {
      return GenerationResult.failed(requestId, "the server's reply has no choices");
    }
    List<JsonNode> ordered = new ArrayList<>();
    choices.forEach(ordered::add);
    ordered.sort((a, b) -> Integer.compare(a.path("index").asInt(0), b.path("index").asInt(0)));
    JsonNode usage = response.path("usage");
    int completionTokens = usage.path("completion_tokens").asInt(0);
    int k = ordered.size();
    List<Completion> out = new ArrayList<>(k);
    for (int i = 0; i < k; i++) {
      JsonNode c = ordered.get(i);
      String text = chat ? c.path("message").path("content").asText("") : c.path("text").asText("");
      FinishReason reason =
          "length".equals(c.path("finish_reason").asText(null))
              ? FinishReason.LENGTH
              : FinishReason.STOP;
      int share = completionTokens / k + (i < completionTokens % k ? 1 : 0);
      out.add(new Completion(text, List.of(), reason, share));
    }
    return new GenerationResult(requestId, out, usage.path("prompt_tokens").asInt(0), null);
  }

  private URI url(String path) {
    return URI.create(settings.endpoint() + path);
  }

  private String clean(String s) {
    return Secrets.redact(s, apiKey);
  }

  @Override
  public String toString() {
    return "OpenAiClient["
        + settings.endpoint()
        + ", model="
        + settings.model()
        + ", key="
        + (apiKey == null ? "(none)" : "from $" + settings.apiKeyEnv())
        + "]";
  }

  @Override
  public void close() {
    // HttpClient is AutoCloseable only from Java 21; on 17 its threads end once it is unreachable.
    if (http instanceof AutoCloseable c) {
      try {
        c.close();
      } catch (Exception ignored) {
        // closing is best effort
      }
    }
  }
}
